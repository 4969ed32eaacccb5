#!/usr/bin/env node
// `npm start`: Redis (found or started), scheduler, worker and dashboard in one process tree.
import { register } from 'tsx/esm/api';

register();
await import('../src/launcher/main.ts');

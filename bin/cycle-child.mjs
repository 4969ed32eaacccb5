#!/usr/bin/env node
// Sandbox child of a worker (started by the worker, not by hand).
import { register } from 'tsx/esm/api';

register();
await import('../src/tasks/sandbox-child.ts');

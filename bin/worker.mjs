#!/usr/bin/env node
// Plain .mjs entry (PM2 and node run it as is); tsx compiles the TypeScript sources on load.
import { register } from 'tsx/esm/api';

register();
await import('../src/tasks/main.ts');

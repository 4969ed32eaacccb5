#!/usr/bin/env node
// The `tradeloop` control CLI.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');

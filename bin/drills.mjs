#!/usr/bin/env node
// `npm run drills [-- --short]`: crash, Redis restart, Redis down, bad input and hung-LLM drills.
import { register } from 'tsx/esm/api';

register();
await import('../drills/run.ts');

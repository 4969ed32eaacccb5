#!/usr/bin/env node
// `npm run drills [-- --short]`: crash, Redis restart, Redis down, bad input, hung-LLM, storage, security and Sentinel failover drills.
import { register } from 'tsx/esm/api';

register();
await import('../drills/run.ts');

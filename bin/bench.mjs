#!/usr/bin/env node
// `npm run bench`: throughput vs bare BullMQ, latency, schedule precision, API under load, memory.
import { register } from 'tsx/esm/api';

register();
await import('../bench/run.ts');

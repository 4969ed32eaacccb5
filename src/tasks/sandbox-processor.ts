import { createLogger, createRedisConnection, loadConfig } from '../core/index.ts';
import { loadCycleFunction, runCycleJob, type CycleJobHandle } from './cycle-execution.ts';

/**
 * Runs in a BullMQ sandbox child: one cycle at a time for its parent worker, so a hung or crashing
 * cycle costs a child process, never the worker (which keeps renewing locks and kills us at the hard
 * limit). Config comes from the environment the worker gave the child.
 */
const config = loadConfig();
const logger = createLogger(config, 'cycle');
const redis = createRedisConnection(config, 'worker');
const fn = await loadCycleFunction(config);

// The worker died (kill -9, deadline exit): do not linger as an orphan still running its cycle.
process.on('disconnect', () => process.exit(0));

export default function processCycle(job: CycleJobHandle, _token: string | undefined, signal: AbortSignal) {
  return runCycleJob(fn, job, signal, { config, redis, logger });
}

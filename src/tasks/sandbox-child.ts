import { CycleAbortedError, createLogger, createRedisConnection, effectiveQueue, jobLogger, loadConfig, productKeys } from '../core/index.ts';
import { createCallRateLimiter } from './call-rate-limiter.ts';
import { executeCycle, loadCycleFunction } from './cycle-execution.ts';
import type { FromChild, ToChild } from './sandbox-messages.ts';

/**
 * A sandbox child: runs one cycle at a time for its parent worker, so a hung or crashing cycle costs a
 * child process, never the worker (which keeps renewing job locks and can kill us at the hard limit).
 */
// The parent died: do not linger as an orphan. Registered before the slow part of start-up, and
// checked again after it, since a channel that closed while modules were loading emitted no event.
process.on('disconnect', () => process.exit(0));
const config = loadConfig();
const logger = createLogger(config, 'cycle');
const redis = createRedisConnection(config, 'worker');
const keys = productKeys(config.QUEUE_PREFIX);
const fn = await loadCycleFunction(config);
let controller: AbortController | null = null;

const send = (msg: FromChild) => process.send?.(msg);

// Progress crosses the IPC channel once per turn of the event loop, the newest report only; it is
// flushed before the cycle's end, so the parent never sees a stage after the result.
let progress: Extract<FromChild, { type: 'progress' }> | null = null;
const flushProgress = () => {
  if (progress) send(progress);
  progress = null;
};
const reportProgress = (stage: Extract<FromChild, { type: 'progress' }>['stage'], percent: number) => {
  if (!progress) setImmediate(flushProgress);
  progress = { type: 'progress', stage, percent };
};
// Resident memory for the parent's cap, read at most every 100 ms: a read is a file read of /proc
// (about 10 µs here, a few per cent of a no-op cycle's cost in the child). A cycle that took longer
// is always followed by a fresh reading; in a burst of quick ones the parent keeps the last.
let rssReadAt = -Infinity;
const rssNow = (): number | undefined => {
  const now = performance.now();
  if (now - rssReadAt < 100) return undefined;
  rssReadAt = now;
  return process.memoryUsage.rss();
};
const finish = (msg: FromChild) => {
  flushProgress();
  send(msg);
};

process.on('message', (msg: ToChild) => {
  if (msg.type === 'abort') {
    controller?.abort(msg.reason);
    return;
  }
  controller = new AbortController();
  const signal = controller.signal;
  const limiter = createCallRateLimiter(redis, keys, msg.queue, effectiveQueue(msg.queue, config).rateLimit);
  const log = jobLogger(logger, { jobId: msg.jobId, agent: msg.data.agent, ticker: msg.data.ticker, attempt: msg.attempt, queue: msg.queue });
  executeCycle(
    fn,
    {
      data: msg.data,
      jobId: msg.jobId,
      attempt: msg.attempt,
      signal,
      reportProgress: async (stage, percent) => {
        log.debug({ stage, percent }, 'progress');
        reportProgress(stage, percent);
      },
      acquireCallSlot: (kind) => limiter(kind, signal),
    },
    { config, redis, logger: log },
  )
    .then((result) => finish({ type: 'done', result, rss: rssNow() }))
    .catch((err: unknown) => {
      const e = err instanceof Error ? err : new Error(String(err));
      const aborted = signal.aborted && (e instanceof CycleAbortedError || e.name === 'AbortError');
      finish({ type: 'error', name: aborted ? 'CycleAbortedError' : e.name, message: aborted ? String(signal.reason) : e.message, stack: e.stack, rss: rssNow() });
    })
    .finally(() => {
      controller = null;
    });
});
if (!process.connected) process.exit(0);
send({ type: 'ready' });

import type { Redis } from 'ioredis';
import { CycleAbortedError, effectiveQueue, jobLogger, productKeys, type Config, type CycleResult, type Logger } from '../core/index.ts';
import { createCallRateLimiter } from './call-rate-limiter.ts';
import { executeCycle, loadCycleFunction, type CycleFunction } from './cycle-execution.ts';
import { CycleRunError, HARD_LIMIT, SOFT_LIMIT, type CycleRunner, type CycleRunRequest } from './cycle-runner.ts';

/**
 * Runs cycles inside the worker process: the fastest mode, without crash isolation. The soft limit
 * aborts the cycle; the hard limit fails the job but cannot stop code that ignores its signal.
 */
export function createInProcessRunner(config: Config, redis: Redis, logger: Logger, cycle?: CycleFunction): CycleRunner {
  const fn = cycle ? Promise.resolve(cycle) : loadCycleFunction(config);
  const keys = productKeys(config.QUEUE_PREFIX);
  return {
    mode: 'in-process',
    childPids: () => [],
    async close() {},
    async run(req: CycleRunRequest): Promise<CycleResult> {
      // A cancel that came before the cycle started: do not start it (the listener below would never fire).
      if (req.signal.aborted) throw new CycleRunError(String(req.signal.reason), 'CycleAbortedError');
      const controller = new AbortController();
      const onAbort = () => controller.abort(req.signal.reason);
      req.signal.addEventListener('abort', onAbort, { once: true });
      const soft = setTimeout(() => controller.abort(SOFT_LIMIT), req.softTimeLimitMs);
      let hard: NodeJS.Timeout | undefined;
      const limiter = createCallRateLimiter(redis, keys, req.queue, effectiveQueue(req.queue, config).rateLimit);
      try {
        const log = jobLogger(logger, { jobId: req.jobId, agent: req.data.agent, ticker: req.data.ticker, attempt: req.attempt, queue: req.queue });
        const work = executeCycle(
          await fn,
          {
            data: req.data,
            jobId: req.jobId,
            attempt: req.attempt,
            signal: controller.signal,
            reportProgress: async (stage, percent) => {
              log.debug({ stage, percent }, 'progress');
              await req.onProgress(stage, percent);
            },
            acquireCallSlot: (kind) => limiter(kind, controller.signal),
          },
          { config, redis, logger: log },
        );
        const hardLimit = new Promise<never>((_, reject) => {
          hard = setTimeout(() => reject(new CycleRunError(HARD_LIMIT, 'HardTimeLimit')), req.hardTimeLimitMs);
        });
        return await Promise.race([work, hardLimit]);
      } catch (err) {
        if (controller.signal.aborted && (err instanceof CycleAbortedError || (err as Error).name === 'AbortError')) {
          const reason = String(controller.signal.reason);
          throw new CycleRunError(reason, reason === SOFT_LIMIT ? 'SoftTimeLimit' : 'CycleAbortedError');
        }
        throw err;
      } finally {
        clearTimeout(soft);
        clearTimeout(hard);
        req.signal.removeEventListener('abort', onAbort);
      }
    },
  };
}


import type { CycleResult } from '../core/index.ts';
import { runCycleJob, type CycleEnv, type CycleFunction } from './cycle-execution.ts';
import { CycleRunError, HARD_LIMIT, SOFT_LIMIT, type CycleRunner, type CycleRunRequest } from './cycle-runner.ts';

/**
 * Runs cycles inside the worker process (`WORKER_SANDBOX=0`): the fastest mode, without crash isolation.
 * The soft limit aborts the cycle; the hard limit fails the job and frees the slot but cannot stop code
 * that ignores its signal — that is what the sandbox is for.
 */
export function createInProcessRunner(fn: Promise<CycleFunction>, env: CycleEnv): CycleRunner {
  return {
    mode: 'in-process',
    childPids: () => [],
    async close() {},
    async run(req: CycleRunRequest): Promise<CycleResult> {
      const controller = new AbortController();
      const forward = () => controller.abort(req.signal.reason);
      if (req.signal.aborted) forward();
      else req.signal.addEventListener('abort', forward, { once: true });
      const soft = setTimeout(() => controller.abort(SOFT_LIMIT), req.softTimeLimitMs);
      let hard: NodeJS.Timeout | undefined;
      try {
        const work = runCycleJob(await fn, req.job, controller.signal, env);
        const hardLimit = new Promise<never>((_, reject) => {
          hard = setTimeout(() => {
            controller.abort(HARD_LIMIT);
            reject(new CycleRunError(HARD_LIMIT, 'HardTimeLimit'));
          }, req.hardTimeLimitMs);
        });
        // The losing side of the race may still settle later; nobody waits for it.
        work.catch(() => undefined);
        return await Promise.race([work, hardLimit]);
      } finally {
        clearTimeout(soft);
        clearTimeout(hard);
        req.signal.removeEventListener('abort', forward);
      }
    },
  };
}

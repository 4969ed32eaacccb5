import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../core/index.ts';

export interface StorageRetryOptions {
  /** Give up after this long; the job attempt then fails and a later attempt completes what is missing. */
  budgetMs: number;
  logger: Logger;
  /** Stops retrying (shutdown deadline passed). */
  stop?: () => boolean;
}

/**
 * Retries one storage step (Redis write, result file) on its own, with capped backoff: a full disk, a
 * read-only results folder or a Redis refusing writes for a while must not re-run the analysis that
 * came before it. The step must be idempotent per job id.
 */
export async function retryStorage<T>(what: string, step: () => Promise<T>, opts: StorageRetryOptions): Promise<T> {
  const deadline = Date.now() + opts.budgetMs;
  let delay = 100;
  for (let tries = 1; ; tries++) {
    try {
      return await step();
    } catch (err) {
      const left = deadline - Date.now();
      if (left <= 0 || opts.stop?.()) throw err;
      opts.logger.warn({ err: (err as Error).message, step: what, tries }, `${what} failed; retrying it alone`);
      await sleep(Math.min(delay, left));
      delay = Math.min(delay * 2, 2_000);
    }
  }
}

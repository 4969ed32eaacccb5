import type { MinimalJob } from 'bullmq';
import { effectiveQueue, isQueueName, type Config } from '../core/index.ts';

/**
 * Retry delay: exponential from the queue's base (2 s), capped (BullMQ's own exponential has no cap),
 * with jitter so a burst of failures does not retry in lockstep.
 */
export function cappedBackoff(config: Config, random: () => number = Math.random) {
  return (attemptsMade: number, _type?: string, _err?: Error, job?: MinimalJob): number => {
    const queue = job && isQueueName(job.queueName) ? job.queueName : 'trading-cycle';
    const q = effectiveQueue(queue, config);
    const base = (job?.opts.backoff as { delay?: number } | undefined)?.delay ?? q.backoffBaseMs;
    const ceiling = Math.min(q.backoffCapMs, base * 2 ** Math.max(0, attemptsMade - 1));
    return Math.round(ceiling * (0.5 + random() * 0.5));
  };
}

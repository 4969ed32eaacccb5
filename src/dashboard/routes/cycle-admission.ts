import type { Request } from 'express';
import type { QueueName } from '../../core/index.ts';
import type { ApiContext } from '../api-context.ts';
import { withDeadline } from '../http-errors.ts';
import { TooManyRequestsError } from '../request-limits.ts';

/**
 * Before any cycle is created through the API: the target queue must be below MAX_QUEUE_DEPTH (a
 * backlog only grows cost and latency) and the client within its JOBS_PER_MINUTE. Both answer 429.
 */
export async function admitCycles(ctx: ApiContext, req: Request, queue: QueueName, count: number): Promise<{ refund(): Promise<void> }> {
  const client = req.ip ?? '';
  // Both checks at once (one round trip's wait); allowance taken for a refused request is given back.
  const [depth, taken] = await Promise.allSettled([withDeadline(ctx.queues[queue].count(), 2_000), ctx.limits?.takeJobs(client, count)]);
  const refund = async () => {
    if (taken.status === 'fulfilled') await ctx.limits?.returnJobs(client, count);
  };
  if (depth.status === 'rejected') {
    await refund();
    throw depth.reason;
  }
  if (taken.status === 'rejected') throw taken.reason;
  if (depth.value + count > ctx.config.MAX_QUEUE_DEPTH) {
    await refund();
    throw new TooManyRequestsError('queue is full', 'queue', `${depth.value} cycles already wait in ${queue} (MAX_QUEUE_DEPTH ${ctx.config.MAX_QUEUE_DEPTH}); retry when it drains`, 30);
  }
  return { refund };
}

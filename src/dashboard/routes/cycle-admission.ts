import type { Request } from 'express';
import type { QueueName } from '../../core/index.ts';
import type { ApiContext } from '../api-context.ts';
import { withDeadline } from '../http-errors.ts';
import { TooManyRequestsError } from '../request-limits.ts';

/**
 * Before any cycle is created through the API: the target queue must be below MAX_QUEUE_DEPTH (a
 * backlog only grows cost and latency) and the client within its JOBS_PER_MINUTE. Both answer 429.
 */
export async function admitCycles(ctx: ApiContext, req: Request, queue: QueueName, count: number): Promise<void> {
  const depth = await withDeadline(ctx.queues[queue].count(), 2_000);
  if (depth + count > ctx.config.MAX_QUEUE_DEPTH) {
    throw new TooManyRequestsError('queue is full', 'queue', `${depth} cycles already wait in ${queue} (MAX_QUEUE_DEPTH ${ctx.config.MAX_QUEUE_DEPTH}); retry when it drains`, 30);
  }
  await ctx.limits?.takeJobs(req.ip ?? '', count);
}

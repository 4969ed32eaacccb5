import { ackReplicas, confirmReplicated, ReplicaAckError, type QueueName } from '../core/index.ts';
import type { ApiContext } from './api-context.ts';
import { HttpError } from './http-errors.ts';

/**
 * A 202 promises the job survives a failover: with replicas configured (REDIS_ACK_REPLICAS, default 1
 * under Sentinel), answer only once WAIT says a replica holds it. Otherwise the jobs are withdrawn (best
 * effort) and the client gets a 503 to retry, so a retry never doubles a job that was acknowledged.
 */
export async function acknowledgeDurably(ctx: ApiContext, queue: QueueName, jobIds: string[]): Promise<void> {
  const timeoutMs = ctx.config.REDIS_ACK_TIMEOUT_MS;
  try {
    await confirmReplicated(ctx.redis, ackReplicas(ctx.config), timeoutMs, ctx.config.QUEUE_PREFIX);
  } catch (err) {
    if (!(err instanceof ReplicaAckError)) throw err;
    const withdrawn = await Promise.all(jobIds.map((id) => ctx.queues[queue].remove(id).then((n) => n === 1, () => false)));
    ctx.logger.warn({ jobIds, withdrawn, err: err.message }, 'enqueue not confirmed by a replica; answered 503');
    throw new HttpError(503, 'service unavailable', [
      { field: 'redis', message: `${err.message}; retry shortly` },
      ...jobIds.map((id, i) => ({ field: 'job_id', message: `${id} ${withdrawn[i] ? 'withdrawn' : 'could not be withdrawn: check GET /api/jobs/' + id + ' before retrying'}` })),
    ]);
  }
}

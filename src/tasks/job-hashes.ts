import type { Job, Queue } from 'bullmq';
import type { Redis } from 'ioredis';

/** The fields of a BullMQ job the job views read: a `Job` has them, and so does a job read with `readJobHashes`. */
export type JobFields = Pick<Job, 'id' | 'data' | 'timestamp' | 'processedOn' | 'finishedOn' | 'returnvalue' | 'failedReason' | 'attemptsMade' | 'progress' | 'processedBy'>;

// BullMQ's job hash field names (its Redis backend's encoding; attemptsMade is `atm` since v5).
const FIELDS = ['data', 'timestamp', 'processedOn', 'finishedOn', 'returnvalue', 'failedReason', 'atm', 'attemptsMade', 'progress', 'pb'] as const;

const parse = (s: string | null, fallback: unknown): unknown => {
  if (s === null || s === '') return fallback;
  try {
    return JSON.parse(s);
  } catch {
    return s;
  }
};
const int = (s: string | null): number | undefined => (s ? Number.parseInt(s, 10) : undefined);

/**
 * Reads many jobs in one round trip (a pipeline of HMGETs of only the fields a view needs), instead of
 * one `getJob` per job (full hash, options, stack traces, a Job object each). Null for a job that is gone.
 */
export async function readJobHashes(redis: Redis, refs: Array<{ queue: Queue; jobId: string }>): Promise<Array<JobFields | null>> {
  if (refs.length === 0) return [];
  const pipeline = redis.pipeline();
  for (const r of refs) pipeline.hmget(r.queue.toKey(r.jobId), ...FIELDS);
  const replies = (await pipeline.exec()) ?? [];
  return refs.map((r, i) => {
    const [err, values] = replies[i] ?? [null, null];
    if (err) throw err;
    const [data, timestamp, processedOn, finishedOn, returnvalue, failedReason, atm, attemptsMade, progress, pb] = (values ?? []) as Array<string | null>;
    if (timestamp === null || timestamp === undefined) return null;
    return {
      id: r.jobId,
      data: parse(data ?? null, {}),
      timestamp: Number(timestamp),
      processedOn: int(processedOn ?? null),
      finishedOn: int(finishedOn ?? null),
      returnvalue: returnvalue === null || returnvalue === undefined ? null : parse(returnvalue, null),
      failedReason: failedReason ?? undefined,
      attemptsMade: int(attemptsMade ?? null) ?? int(atm ?? null) ?? 0,
      progress: parse(progress ?? null, 0),
      processedBy: pb ?? undefined,
    } as JobFields;
  });
}

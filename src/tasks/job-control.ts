import type { Redis } from 'ioredis';
import type { ProductKeys, QueueName } from '../core/index.ts';

/**
 * Cancelling: a pending job is removed (or, for a scheduler's run that BullMQ will not let us remove,
 * tombstoned and skipped when it starts); a running job's worker — possibly another process or
 * machine — is told on a Redis channel to abort it.
 */
export const CANCEL_REASON = 'cancelled by request';

export function cancelChannel(keys: ProductKeys): string {
  return keys.custom('cancel');
}

export async function requestRunningCancel(redis: Redis, keys: ProductKeys, jobId: string): Promise<void> {
  await redis.publish(cancelChannel(keys), jobId);
}

export function tombstoneKey(keys: ProductKeys, jobId: string): string {
  return keys.custom('tombstone', jobId);
}

/** Marks a job cancelled; `view` (JSON) lets the API still answer for a job that was removed. */
export async function writeTombstone(redis: Redis, keys: ProductKeys, jobId: string, view: unknown): Promise<void> {
  await redis.set(tombstoneKey(keys, jobId), JSON.stringify(view), 'EX', 8 * 24 * 3600);
}

export async function readTombstone(redis: Redis, keys: ProductKeys, jobId: string): Promise<Record<string, unknown> | null> {
  const raw = await redis.get(tombstoneKey(keys, jobId));
  return raw ? (JSON.parse(raw) as Record<string, unknown>) : null;
}

/** What a removed pending job needs to be added again by a retry: kept when it is cancelled. */
export interface CancelledSnapshot {
  queue: QueueName;
  name: string;
  data: Record<string, unknown>;
  opts: Record<string, unknown>;
}

export function snapshotKey(keys: ProductKeys, jobId: string): string {
  return keys.custom('cancelled-job', jobId);
}

export async function saveCancelledSnapshot(redis: Redis, keys: ProductKeys, jobId: string, snapshot: CancelledSnapshot): Promise<void> {
  await redis.set(snapshotKey(keys, jobId), JSON.stringify(snapshot), 'EX', 8 * 24 * 3600);
}

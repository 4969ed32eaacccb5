import type { Redis } from 'ioredis';
import type { ProductKeys } from '../core/index.ts';
import type { HistoryRecord } from './history-record.ts';

/** The Redis list finished records wait in until the history writer has committed them to PostgreSQL. */
export const outboxKey = (keys: ProductKeys) => keys.custom('history', 'outbox');

// The record-once marker and the outbox entry in one step: never a marker without its record (a
// record lost), and never a second record for a job already recorded.
const MARK_AND_QUEUE = `
if redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2], 'NX') then
  redis.call('RPUSH', KEYS[2], ARGV[3])
  return 1
end
return 0`;

/** Sets the job's record-once marker (SET NX) and, only if it was not set, queues its history record. */
export async function markAndQueue(redis: Redis, keys: ProductKeys, marker: { key: string; value: string; ttlS: number }, record: HistoryRecord): Promise<boolean> {
  const first = await redis.eval(MARK_AND_QUEUE, 2, marker.key, outboxKey(keys), marker.value, String(marker.ttlS), JSON.stringify(record));
  return first === 1;
}

/** Queues a record for PostgreSQL (a replay's report): a duplicate is harmless, the write is an upsert. */
export async function queueHistory(redis: Redis, keys: ProductKeys, record: HistoryRecord): Promise<void> {
  await redis.rpush(outboxKey(keys), JSON.stringify(record));
}

/** Records waiting for PostgreSQL. */
export async function outboxDepth(redis: Redis, keys: ProductKeys): Promise<number> {
  return redis.llen(outboxKey(keys));
}

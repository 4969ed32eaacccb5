import type { Redis } from 'ioredis';
import { isUuidJobId, sendWrites, type ProductKeys, type QueueName, type RedisWrite } from '../core/index.ts';

/**
 * Our index of jobs for listing newest first with filters, without scanning BullMQ's state sets:
 * one sorted set per filter value, scored by creation time, members `<queue>|<jobId>`.
 * Written when we enqueue and when a job starts (scheduled runs are created by BullMQ itself).
 */
export interface IndexedJob {
  queue: QueueName;
  jobId: string;
  createdAt: number;
}

export interface JobFilter {
  ticker?: string;
  agent?: string;
  schedule?: string;
  queue?: QueueName;
  /** Created at or after (epoch ms). */
  from?: number;
  /** Created before (epoch ms). */
  to?: number;
}

const RETAIN_MS = 8 * 24 * 3600_000; // a little beyond the 7-day job retention

function indexKeys(keys: ProductKeys, job: { ticker?: string; agent?: string; schedule?: string | null; queue?: string }): string[] {
  const out = [keys.custom('jobs', 'all')];
  if (job.ticker) out.push(keys.custom('jobs', 'ticker', job.ticker));
  if (job.agent) out.push(keys.custom('jobs', 'agent', job.agent));
  if (job.schedule) out.push(keys.custom('jobs', 'schedule', job.schedule));
  if (job.queue) out.push(keys.custom('jobs', 'queue', job.queue));
  return out;
}

type IndexEntry = IndexedJob & { ticker: string; agent: string; schedule: string | null };

/**
 * The writes that add a job to every index list it belongs to. `trim` also drops entries past the
 * retention age (at enqueue); at a job's start it is left to the retention pass (pruneJobIndex).
 */
export function indexWrites(keys: ProductKeys, job: IndexEntry, opts: { trim: boolean } = { trim: true }): RedisWrite[] {
  const member = `${job.queue}|${job.jobId}`;
  const out: RedisWrite[] = [];
  for (const key of indexKeys(keys, { ...job })) {
    out.push(['ZADD', key, 'NX', String(job.createdAt), member]);
    if (opts.trim) out.push(['ZREMRANGEBYSCORE', key, '-inf', String(job.createdAt - RETAIN_MS)]);
    // A list nobody adds to any more (a ticker no longer analysed) expires with its last job.
    out.push(['PEXPIRE', key, String(RETAIN_MS)]);
  }
  return out;
}

/**
 * Jobs whose id we issued as a UUID were indexed when they were enqueued (enqueueCycle, and a
 * retry's re-add): their start needs no index writes. A scheduler's runs (repeat:/catchup: ids) are
 * created by BullMQ or the catch-up and are indexed when they start.
 */
export function indexedWhenEnqueued(jobId: string): boolean {
  return isUuidJobId(jobId);
}

export async function indexJob(redis: Redis, keys: ProductKeys, job: IndexEntry): Promise<void> {
  await sendWrites(redis, indexWrites(keys, job));
}


/**
 * Bounds every index list: entries past the retention age go, and each list keeps at most `keep`
 * newest entries (a busy install's "all" list would otherwise hold every job of the last 8 days).
 */
export async function pruneJobIndex(redis: Redis, keys: ProductKeys, keep: number, now = Date.now()): Promise<number> {
  let removed = 0;
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${keys.custom('jobs')}:*`, 'COUNT', 1000, 'TYPE', 'zset');
    cursor = next;
    for (const key of found) {
      const [byAge, byCount] = (await redis.multi().zremrangebyscore(key, '-inf', now - RETAIN_MS).zremrangebyrank(key, 0, -(keep + 1)).exec()) ?? [];
      removed += Number(byAge?.[1] ?? 0) + Number(byCount?.[1] ?? 0);
    }
  } while (cursor !== '0');
  return removed;
}

export async function unindexJob(redis: Redis, keys: ProductKeys, queue: QueueName, jobId: string, job: { ticker?: string; agent?: string; schedule?: string | null }): Promise<void> {
  const member = `${queue}|${jobId}`;
  const multi = redis.multi();
  for (const key of indexKeys(keys, { ...job, queue })) multi.zrem(key, member);
  await multi.exec();
}

function listKey(keys: ProductKeys, filter: JobFilter): string {
  // The most selective filter picks the index; the others are checked on the jobs themselves.
  if (filter.schedule) return keys.custom('jobs', 'schedule', filter.schedule);
  if (filter.ticker) return keys.custom('jobs', 'ticker', filter.ticker);
  if (filter.agent) return keys.custom('jobs', 'agent', filter.agent);
  if (filter.queue) return keys.custom('jobs', 'queue', filter.queue);
  return keys.custom('jobs', 'all');
}

/** One page of index entries, newest first, strictly after the cursor (ties broken by member, descending). */
export async function readIndexPage(
  redis: Redis,
  keys: ProductKeys,
  filter: JobFilter,
  cursor: { score: number; member: string } | null,
  count: number,
): Promise<{ key: string; entries: Array<IndexedJob & { member: string }> }> {
  const key = listKey(keys, filter);
  const entries: Array<IndexedJob & { member: string }> = [];
  let offset = 0;
  // Entries sharing the cursor's score are re-read and skipped by member order; loop past a run of them.
  for (;;) {
    const batch = count + 50;
    // The created-at window narrows the score range; `to` is exclusive.
    const max = Math.min(cursor ? cursor.score : Infinity, filter.to !== undefined ? filter.to - 1 : Infinity);
    const raw = await redis.zrevrangebyscore(key, max === Infinity ? '+inf' : max, filter.from ?? '-inf', 'WITHSCORES', 'LIMIT', offset, batch);
    for (let i = 0; i < raw.length; i += 2) {
      const member = raw[i]!;
      const score = Number(raw[i + 1]);
      if (cursor && score === cursor.score && member >= cursor.member) continue;
      const [queue, ...rest] = member.split('|');
      entries.push({ queue: queue as QueueName, jobId: rest.join('|'), createdAt: score, member });
      if (entries.length >= count) return { key, entries };
    }
    if (raw.length < batch * 2) return { key, entries };
    offset += batch;
  }
}

export function encodeCursor(entry: { createdAt: number; member: string }): string {
  return Buffer.from(JSON.stringify([entry.createdAt, entry.member])).toString('base64url');
}

/** Whether a string is a cursor a job listing handed out (so a mangled one is refused, not read as "from the top"). */
export function isJobCursor(cursor: string): boolean {
  return decodeCursor(cursor) !== null;
}

export function decodeCursor(cursor: string): { score: number; member: string } | null {
  try {
    const [score, member] = JSON.parse(Buffer.from(cursor, 'base64url').toString()) as [unknown, unknown];
    return typeof score === 'number' && typeof member === 'string' ? { score, member } : null;
  } catch {
    return null;
  }
}

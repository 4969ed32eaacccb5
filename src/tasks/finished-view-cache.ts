import type { Queue } from 'bullmq';
import type { ChainableCommander, Redis } from 'ioredis';
import { luaCommand, type JobView } from '../core/index.ts';

/**
 * A finished job's view, kept in its own BullMQ hash (so retention removes it with the job) beside the
 * finish it describes. A job list then reads one short field per finished job instead of parsing its
 * whole data and result; a retried job has a new finish (or none yet), which the stale copy no longer matches.
 */
const VIEW_FIELD = 'tl:view';

/** Written only while the hash still shows the same finish: a job retried or removed meanwhile is left alone. */
const KEEP_VIEW = `
if redis.call('HGET', KEYS[1], 'finishedOn') == ARGV[1] then redis.call('HSET', KEYS[1], '${VIEW_FIELD}', ARGV[2]) return 1 end
return 0`;

export type CachedView = { view: JobView } | 'miss' | null;

interface Stored {
  f: string;
  v: JobView;
}

/** Per job: the kept view, its finish and its creation time (absent: the job is gone). One call for a page. */
const READ_VIEWS = `
local out = {}
for i, key in ipairs(KEYS) do
  local v = redis.call('HMGET', key, '${VIEW_FIELD}', 'finishedOn', 'timestamp')
  out[3 * i - 2] = v[1] or ''
  out[3 * i - 1] = v[2] or ''
  out[3 * i] = v[3] or ''
end
return out`;

/** The cached view where it matches the job's finish, 'miss' where not, null where the job is gone. */
export async function readFinishedViews(redis: Redis, refs: Array<{ queue: Queue; jobId: string }>): Promise<CachedView[]> {
  if (refs.length === 0) return [];
  const flat = (await luaCommand(redis, 'tlReadViews', READ_VIEWS).tlReadViews(refs.length, ...refs.map((r) => r.queue.toKey(r.jobId)))) as string[];
  return refs.map((_, i): CachedView => {
    const cached = flat[3 * i];
    const finishedOn = flat[3 * i + 1];
    if (!flat[3 * i + 2]) return null;
    if (!cached || !finishedOn) return 'miss';
    try {
      const stored = JSON.parse(cached) as Stored;
      return stored.f === finishedOn ? { view: stored.v } : 'miss';
    } catch {
      return 'miss';
    }
  });
}

/** Keeps the views of jobs that are finished for good (best effort: a lost write only costs a re-parse next time). */
export function keepFinishedViews(redis: Redis, rows: Array<{ queue: Queue; jobId: string; finishedOn: number; view: JobView }>): void {
  if (rows.length === 0) return;
  const pipeline = luaCommand(redis, 'tlKeepView', KEEP_VIEW).pipeline() as ChainableCommander & { tlKeepView(...args: Array<string | number>): ChainableCommander };
  for (const r of rows) {
    const finished = String(r.finishedOn);
    pipeline.tlKeepView(1, r.queue.toKey(r.jobId), finished, JSON.stringify({ f: finished, v: r.view } satisfies Stored));
  }
  pipeline.exec().catch(() => undefined);
}

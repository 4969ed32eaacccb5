import { createHash } from 'node:crypto';
import { Job, type Queue } from 'bullmq';
import type { Redis } from 'ioredis';

/** What the scheduler needs to know of one BullMQ job scheduler, read without parsing its template data. */
export interface SchedulerState {
  key: string;
  /** The due time of its pending run (the `repeat` sorted set's score). */
  next: number;
  startDate?: number;
  endDate?: number;
  every?: number;
  pattern?: string;
  tz?: string;
  /** SHA-1 of the template data exactly as BullMQ stored it (compare with `templateDataHash`). */
  dataHash: string;
  /** The template's job options, decoded as BullMQ decodes them (shared between schedulers: read only). */
  opts: Record<string, unknown>;
  /**
   * Where the run `repeat:<key>:<next>` is: delayed or prioritized (pending for sure), missing, or
   * elsewhere (waiting, active or finished: `queue.getJobState` tells which; rare, so asked one by one).
   */
  nextRun: 'delayed' | 'prioritized' | 'missing' | 'other';
}

/**
 * One script call per chunk of scheduler ids reads, for each: its score, window and timing fields,
 * a hash of its template data, its options, and where its next run is. Listing through
 * `getJobSchedulers` parses every template (the agent profile included) and then needs one state
 * call per scheduler; thousands of schedulers cost seconds that way. Ids are passed in (not ranged
 * inside the script), so a run re-scoring a scheduler between chunks cannot make one look gone.
 * All keys are the queue's own (one Cluster slot under a hash-tagged prefix).
 */
const READ = `local out = {}
for i = 1, #ARGV - 1 do
  local id = ARGV[i + 1]
  local next = redis.call('ZSCORE', KEYS[1], id)
  if next then
    local h = redis.call('HMGET', KEYS[1] .. ':' .. id, 'startDate', 'endDate', 'every', 'pattern', 'tz', 'data', 'opts')
    local jobId = 'repeat:' .. id .. ':' .. next
    local at = 'missing'
    if redis.call('ZSCORE', KEYS[2], jobId) then at = 'delayed'
    elseif redis.call('ZSCORE', KEYS[3], jobId) then at = 'prioritized'
    elseif redis.call('EXISTS', ARGV[1] .. jobId) == 1 then at = 'other' end
    out[#out + 1] = table.concat({id, next, h[1] or '', h[2] or '', h[3] or '', h[4] or '', h[5] or '', redis.sha1hex(h[6] or '{}'), at, h[7] or ''}, '\\31')
  end
end
return out`;

/** Ids per script call: a few milliseconds of Redis time each, so other clients are not held up. */
const CHUNK = 500;

/** Every scheduler of the queue, or only those among `only` (ids that do not exist are left out). */
export async function readSchedulerStates(queue: Queue, only?: readonly string[]): Promise<Map<string, SchedulerState>> {
  const client = await clientOf(queue);
  const ids = only ? [...only] : await client.zrange(queue.keys.repeat!, '0', '-1');
  const chunks: string[][] = [];
  for (let i = 0; i < ids.length; i += CHUNK) chunks.push(ids.slice(i, i + CHUNK));
  const rows = await Promise.all(
    chunks.map((chunk) => client.eval(READ, 3, queue.keys.repeat!, queue.keys.delayed!, queue.keys.prioritized!, queue.keys['']!, ...chunk) as Promise<string[]>),
  );
  const out = new Map<string, SchedulerState>();
  // Schedulers share a handful of option sets: each is decoded once.
  const decoded = new Map<string, Record<string, unknown>>();
  const optsOf = (raw: string) => {
    if (!decoded.has(raw)) decoded.set(raw, raw ? (Job.optsFromJSON(raw) as Record<string, unknown>) : {});
    return decoded.get(raw)!;
  };
  for (const row of rows.flat()) {
    // One string per scheduler (unit separator between fields): far cheaper to decode than nested
    // arrays. Ids, tickers and patterns are validated and JSON escapes control characters, so no field
    // holds the separator; the options (JSON) come last all the same.
    const parts = row.split('\u001f');
    const [key, next, startDate, endDate, every, pattern, tz, dataHash, nextRun] = parts as [string, string, string, string, string, string, string, string, SchedulerState['nextRun']];
    const opts = parts.slice(9).join('\u001f');
    const state: SchedulerState = { key, next: Number(next), dataHash, opts: optsOf(opts), nextRun };
    if (startDate) state.startDate = Number(startDate);
    if (endDate) state.endDate = Number(endDate);
    if (every) state.every = Number(every);
    if (pattern) state.pattern = pattern;
    if (tz) state.tz = tz;
    out.set(key, state);
  }
  return out;
}

/** The ids of a queue's job schedulers (no other field read). */
export async function readSchedulerIds(queue: Queue): Promise<string[]> {
  return (await clientOf(queue)).zrange(queue.keys.repeat!, '0', '-1');
}

/** The product opens its queues on its own ioredis connections (see openQueues): this is one of them. */
export async function clientOf(queue: Queue): Promise<Redis> {
  return (await queue.backend.client) as unknown as Redis;
}

/** Each agent profile serialised once (thousands of templates share a few profile objects). */
const profileJson = new WeakMap<object, string>();

/**
 * SHA-1 of template data as BullMQ stores it (`JSON.stringify` of what `upsertJobScheduler` is given).
 * The agent profile is most of the text: its JSON is spliced in from a cache. The placeholder can only
 * match as the key itself (a quote inside a string value is escaped), so the text is exact.
 */
export function templateDataHash(data: unknown): string {
  const d = (data ?? {}) as Record<string, unknown>;
  const profile = d.profile;
  let text: string;
  if (profile && typeof profile === 'object') {
    let pj = profileJson.get(profile);
    if (pj === undefined) profileJson.set(profile, (pj = JSON.stringify(profile)));
    text = JSON.stringify({ ...d, profile: 0 }).replace('"profile":0', () => `"profile":${pj}`);
  } else text = JSON.stringify(d);
  return createHash('sha1').update(text).digest('hex');
}

import type { ProductKeys } from '../core/index.ts';
import { ATTEMPT_LOG_LIMITS, attemptLogKey } from './attempt-log.ts';
import { analysisKey } from './analysis-store.ts';
import { tombstoneKey } from './job-control.ts';

/**
 * A job's start taken in the Lua call that fetches it (BullMQ's moveToActive, or its completion of
 * the job before, which fetches the next one): the attempt's start is written and the cancel
 * tombstone and an analysis on record are read, so the processor needs no call of its own before
 * the cycle. Only for jobs whose start is nothing more: an id issued by our API (indexed when it was
 * enqueued) and no schedule (no overlap lease); any other job is started by the processor as before.
 */
export interface FetchedStart {
  /** The attempt log's length after the start's entry (its index + 1). */
  listLength: number;
  startedAt: string;
  tombstone: string | null;
  analysis: string | null;
}

/**
 * `tradeloopStart(jobId, fields, P)`: `fields` is the job hash BullMQ returned (flat), P the six
 * values `args()` makes. Answers false (nothing written) when the job is not one to start here or
 * Redis refused the start's first write; every call is guarded, so the fetch it rides on never fails.
 */
export const FETCH_START_LUA = `local function tradeloopStart(jobId, fields, P)
  if P[1] == '' then return false end
  if type(jobId) ~= 'string' or not string.match(jobId, '^%x%x%x%x%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%x%x%x%x%x%x%x%x$') then return false end
  local data, atm
  for i = 1, #fields, 2 do
    if fields[i] == 'data' then data = fields[i + 1] elseif fields[i] == 'atm' then atm = fields[i + 1] end
  end
  -- A schedule's run takes a lease at its start: a schedule id anywhere in the data (a string; JSON.stringify
  -- writes no spaces) leaves the start to the processor. Searched, not decoded: a decode cost Redis 5 µs a job.
  if not data or string.find(data, '"schedule_id":"', 1, true) then return false end
  local attempt = (tonumber(atm) or 0) + 1
  local entry = cjson.encode({attempt = attempt, started_at = P[3], ended_at = cjson.null, worker = P[2], outcome = 'running'})
  local akey = P[1] .. 'attempts:' .. jobId
  local n = redis.pcall('RPUSH', akey, entry)
  if type(n) ~= 'number' then return false end
  redis.pcall('LTRIM', akey, -tonumber(P[5]), -1)
  redis.pcall('EXPIRE', akey, P[6])
  redis.pcall('RPUSH', P[4] .. jobId .. ':logs', P[3] .. ' attempt ' .. attempt .. ' started on ' .. P[2])
  local tomb = redis.pcall('GET', P[1] .. 'tombstone:' .. jobId)
  local an = redis.pcall('GET', P[1] .. 'analysis:' .. jobId)
  if type(tomb) == 'table' or type(an) == 'table' then return false end
  return {n, P[3], tomb, an}
end`;

export class StartsOnFetch {
  private readonly starts = new Map<string, FetchedStart>();
  private readonly tlPrefix: string;

  constructor(
    keys: ProductKeys,
    private readonly worker: string,
  ) {
    this.tlPrefix = keys.custom('');
    // The Lua names the keys the way the modules that own them do: checked once, here.
    const id = '00000000-0000-0000-0000-000000000000';
    for (const [key, name] of [[attemptLogKey(keys, id), 'attempts'], [tombstoneKey(keys, id), 'tombstone'], [analysisKey(keys, id), 'analysis']] as const) {
      if (key !== `${this.tlPrefix}${name}:${id}`) throw new Error(`the ${name} key is not where the fetch's start writes it: ${key}`);
    }
  }

  /** P for a fetch on the queue whose job keys start with `jobKeyPrefix` (`<prefix>:<queue>:`). */
  args(jobKeyPrefix: string): string[] {
    return [this.tlPrefix, this.worker, new Date().toISOString(), jobKeyPrefix, String(ATTEMPT_LOG_LIMITS.entries), String(ATTEMPT_LOG_LIMITS.retainS)];
  }

  /** Keeps the start a fetch answered beside BullMQ's own answer (its fifth element). */
  keep(raw: unknown): void {
    if (!Array.isArray(raw) || !Array.isArray(raw[4])) return;
    const [n, startedAt, tombstone, analysis] = raw[4] as [number, string, string | null, string | null];
    this.starts.set(String(raw[1]), { listLength: Number(n), startedAt: String(startedAt), tombstone: tombstone ?? null, analysis: analysis ?? null });
    // A fetched job this worker never processed (it closed first) leaves its entry: bounded.
    if (this.starts.size > 1000) this.starts.delete(this.starts.keys().next().value!);
  }

  /** The start taken when `jobId` was fetched, once. */
  take(jobId: string): FetchedStart | undefined {
    const start = this.starts.get(jobId);
    if (start) this.starts.delete(jobId);
    return start;
  }
}

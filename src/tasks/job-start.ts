import type { Redis } from 'ioredis';
import { luaCommand, ScriptKeys, SEND_WRITE_LUA, type EncodedWrite, type RedisWrite } from '../core/index.ts';

/**
 * The start of a job in one Lua call (one command, one round trip): the attempt's start (best effort:
 * a Redis refusing writes must not stop the cycle), the writes that must land (the job index), the
 * reads the processor decides on (cancel tombstone, an analysis on record) and the overlap lease,
 * taken or renewed atomically. A pipeline of the same commands cost the worker two to three times the
 * CPU of one call (a command object, a promise and a reply per command).
 */
const SCRIPT = `${SEND_WRITE_LUA}
local spec = cjson.decode(ARGV[1])
local first = false
for i, w in ipairs(spec.best) do
  local r = send(redis.pcall, w)
  -- A refused write refuses the ones after it too (a script's first write is the one Redis checks).
  if type(r) == 'table' and r.err then break end
  if i == 1 then first = r end
end
for _, w in ipairs(spec.must) do send(redis.call, w) end
local out = {first}
for _, k in ipairs(spec.reads) do out[#out + 1] = redis.call('GET', KEYS[k]) end
local l = spec.lease
if l then
  local key = KEYS[l[1]]
  if redis.call('SET', key, l[2], 'PX', l[3], 'NX') then
    out[#out + 1] = 1
    out[#out + 1] = l[2]
  else
    local holder = redis.call('GET', key)
    -- A retry or a recovered run of the same job holds its own lease: renewed.
    if holder == l[2] then redis.call('PEXPIRE', key, l[3]) end
    out[#out + 1] = 0
    out[#out + 1] = holder
  end
end
return out`;

export interface JobStartRequest {
  /** Best effort; the first one's reply is `firstReply` (null when it was refused). */
  bestEffort: RedisWrite[];
  /** Writes that must land: a refusal fails the call. */
  writes: RedisWrite[];
  /** Keys read with GET, answered in this order. */
  reads: string[];
  /** The overlap lease to take (SET NX PX) or, held by `holder` already, renew. */
  lease?: { key: string; holder: string; ttlMs: number };
}

export interface JobStartAnswer {
  firstReply: number | null;
  reads: Array<string | null>;
  /** Who holds the lease now (the asker when `took` or when it renewed its own). */
  lease?: { took: boolean; holder: string | null };
}

export async function startJob(redis: Redis, req: JobStartRequest): Promise<JobStartAnswer> {
  const keys = new ScriptKeys();
  const spec: { best: EncodedWrite[]; must: EncodedWrite[]; reads: number[]; lease?: [number, string, string] } = {
    best: req.bestEffort.map((w) => keys.encode(w)),
    must: req.writes.map((w) => keys.encode(w)),
    reads: req.reads.map((k) => keys.of(k)),
  };
  if (req.lease) spec.lease = [keys.of(req.lease.key), req.lease.holder, String(req.lease.ttlMs)];
  const out = (await luaCommand(redis, 'tlJobStart', SCRIPT).tlJobStart(keys.list.length, ...keys.list, JSON.stringify(spec))) as Array<number | string | null>;
  const at = 1 + req.reads.length;
  return {
    firstReply: typeof out[0] === 'number' ? out[0] : null,
    reads: out.slice(1, at).map((v) => (v === null || v === undefined ? null : String(v))),
    ...(req.lease ? { lease: { took: out[at] === 1, holder: out[at + 1] === null || out[at + 1] === undefined ? null : String(out[at + 1]) } } : {}),
  };
}

import type { Redis } from 'ioredis';
import type { RedisWrite } from '../core/index.ts';
import { luaCommand } from './lua-command.ts';

/**
 * The end of a job in one Lua call (one round trip, atomic): store the analysis once (SET NX; a
 * different one on record wins and nothing else is written), set the record-once marker (SET NX) and
 * only when it was absent send the outcome's writes (metrics, counters, last run …), then the writes
 * every attempt makes (its attempt-log entry, job log line, overlap lease release).
 * The writes travel as JSON naming keys by their index in KEYS, so every key is declared (Cluster).
 */
const SCRIPT = `
local spec = cjson.decode(ARGV[1])
local function apply(list)
  for _, w in ipairs(list) do
    local op, key = w[1], KEYS[w[2]]
    if op == 'DELIFEQ' then
      if redis.call('GET', key) == w[3] then redis.call('DEL', key) end
    elseif op == 'HSETRESULT' then
      local json = w[5]
      if json == '' then json = spec.analysis[2] end
      redis.call('HSET', key, w[3], '{"at":' .. w[4] .. ',"result":' .. json .. '}')
    elseif op == 'LSETORPUSH' then
      local r = redis.pcall('LSET', key, w[3], w[4])
      if type(r) == 'table' and r.err then redis.call('RPUSH', key, w[4]) end
    else
      redis.call(op, key, unpack(w, 3))
    end
  end
end
if spec.analysis then
  local a = spec.analysis
  if not redis.call('SET', KEYS[a[1]], a[2], 'EX', a[3], 'NX') then
    local stored = redis.call('GET', KEYS[a[1]])
    if stored and stored ~= a[2] then return {0, stored} end
  end
end
local first = 0
if spec.marker then
  local m = spec.marker
  if redis.call('SET', KEYS[m[1]], m[2], 'EX', m[3], 'NX') then
    first = 1
    apply(spec.once)
  end
end
apply(spec.always)
return {1, first}`;

type Encoded = [string, number, ...string[]];

export interface OnceWritesAnswer {
  /** Another run's analysis was on record (nothing was written): its JSON. */
  storedAnalysis: string | null;
  /** The marker was absent: the outcome's writes were sent by this call. */
  first: boolean;
}

export class OnceWrites {
  private readonly keys: string[] = [];
  private readonly index = new Map<string, number>();
  private analysis?: [number, string, string];
  private analysed?: unknown;
  private marker?: [number, string, string];
  private readonly once: Encoded[] = [];
  private readonly always: Encoded[] = [];

  private key(k: string): number {
    let i = this.index.get(k);
    if (i === undefined) {
      this.keys.push(k);
      i = this.keys.length;
      this.index.set(k, i);
    }
    return i;
  }

  private encode(w: RedisWrite): Encoded {
    const [command, key, ...args] = w;
    return [command, this.key(key), ...args];
  }

  storeAnalysis(key: string, analysis: unknown, ttlS: number): this {
    this.analysis = [this.key(key), JSON.stringify(analysis), String(ttlS)];
    this.analysed = analysis;
    return this;
  }

  /**
   * Keeps a completed job's result in a hash until its result file is written (the writer removes
   * it), so a worker killed in between leaves it for another to write. The analysis being stored is
   * not sent twice.
   */
  keepResult(key: string, jobId: string, result: unknown, at = Date.now()): this {
    const json = this.analysis && this.analysed === result ? '' : JSON.stringify(result);
    this.always.push(['HSETRESULT', this.key(key), jobId, String(at), json]);
    return this;
  }

  /** The record-once marker; `writes` are sent only by the call that sets it. */
  onceFor(markerKey: string, value: string, ttlS: number, writes: RedisWrite[]): this {
    this.marker = [this.key(markerKey), value, String(ttlS)];
    for (const w of writes) this.once.push(this.encode(w));
    return this;
  }

  /** Writes sent whatever the marker says (after it). */
  alsoWrite(writes: RedisWrite[]): this {
    for (const w of writes) this.always.push(this.encode(w));
    return this;
  }

  async send(redis: Redis): Promise<OnceWritesAnswer> {
    const spec = JSON.stringify({ analysis: this.analysis, marker: this.marker, once: this.once, always: this.always });
    const [ok, second] = (await luaCommand(redis, 'tlOnceWrites', SCRIPT).tlOnceWrites(this.keys.length, ...this.keys, spec)) as [number, string | number];
    return ok === 0 ? { storedAnalysis: String(second), first: false } : { storedAnalysis: null, first: second === 1 };
  }
}

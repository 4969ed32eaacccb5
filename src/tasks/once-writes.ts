import type { Redis } from 'ioredis';
import { luaCommand, ScriptKeys, SEND_WRITE_LUA, type EncodedWrite, type RedisWrite } from '../core/index.ts';

/**
 * The end of a job in one Lua call (one round trip, atomic): store the analysis once (SET NX; a
 * different one on record wins and nothing else is written), set the record-once marker (SET NX) and
 * only when it was absent send the outcome's writes (metrics, counters, last run …), then the writes
 * every attempt makes (its attempt-log entry, job log line, overlap lease release).
 * The writes travel as JSON naming keys by their index in KEYS, so every key is declared (Cluster);
 * the analysis travels beside it in ARGV[2], so neither side escapes or decodes it as part of the JSON.
 */
export const ONCE_WRITES_LUA = `${SEND_WRITE_LUA}
local spec = cjson.decode(ARGV[1])
local analysis = ARGV[2]
local function apply(list)
  for _, w in ipairs(list) do
    local op, key = w[1], KEYS[w[2]]
    if op == 'DELIFEQ' then
      if redis.call('GET', key) == w[3] then redis.call('DEL', key) end
    elseif op == 'HSETRESULT' then
      local json = w[5]
      if json == '' then json = analysis end
      redis.call('HSET', key, w[3], '{"at":' .. w[4] .. ',"result":' .. json .. '}')
    elseif op == 'LSETORPUSH' then
      local r = redis.pcall('LSET', key, w[3], w[4])
      if type(r) == 'table' and r.err then redis.call('RPUSH', key, w[4]) end
    else
      send(redis.call, w)
    end
  end
end
if spec.analysis then
  local a = spec.analysis
  if not redis.call('SET', KEYS[a[1]], analysis, 'EX', a[2], 'NX') then
    local stored = redis.call('GET', KEYS[a[1]])
    if stored and stored ~= analysis then return {0, stored} end
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

export interface OnceWritesAnswer {
  /** Another run's analysis was on record (nothing was written): its JSON. */
  storedAnalysis: string | null;
  /** The marker was absent: the outcome's writes were sent by this call. */
  first: boolean;
}

export class OnceWrites {
  private readonly keys = new ScriptKeys();
  private analysis?: [number, string];
  private analysisJson = '';
  private analysed?: unknown;
  private marker?: [number, string, string];
  private readonly once: EncodedWrite[] = [];
  private readonly always: EncodedWrite[] = [];

  storeAnalysis(key: string, analysis: unknown, ttlS: number): this {
    this.analysis = [this.keys.of(key), String(ttlS)];
    this.analysisJson = JSON.stringify(analysis);
    this.analysed = analysis;
    return this;
  }

  /** The JSON of `result` when it is the analysis this batch stores (made once, for the file too). */
  jsonOf(result: unknown): string | undefined {
    return this.analysis && this.analysed === result ? this.analysisJson : undefined;
  }

  /**
   * Keeps a completed job's result in a hash until its result file is written (the writer removes
   * it), so a worker killed in between leaves it for another to write. The analysis being stored is
   * not sent twice.
   */
  keepResult(key: string, jobId: string, result: unknown, at = Date.now()): this {
    const json = this.jsonOf(result) !== undefined ? '' : JSON.stringify(result);
    this.always.push(['HSETRESULT', this.keys.of(key), jobId, String(at), json]);
    return this;
  }

  /** The record-once marker; `writes` are sent only by the call that sets it. */
  onceFor(markerKey: string, value: string, ttlS: number, writes: RedisWrite[]): this {
    this.marker = [this.keys.of(markerKey), value, String(ttlS)];
    for (const w of writes) this.once.push(this.keys.encode(w));
    return this;
  }

  /** Writes sent whatever the marker says (after it). */
  alsoWrite(writes: RedisWrite[]): this {
    for (const w of writes) this.always.push(this.keys.encode(w));
    return this;
  }

  /** The call's keys and arguments, for a script that runs ONCE_WRITES_LUA as part of its own. */
  encoded(): { keys: string[]; args: [spec: string, analysis: string]; analysisKeyIndex: number | null } {
    const spec = JSON.stringify({ analysis: this.analysis, marker: this.marker, once: this.once, always: this.always });
    return { keys: this.keys.list, args: [spec, this.analysisJson], analysisKeyIndex: this.analysis ? this.analysis[0] : null };
  }

  async send(redis: Redis): Promise<OnceWritesAnswer> {
    const { keys, args } = this.encoded();
    const [ok, second] = (await luaCommand(redis, 'tlOnceWrites', ONCE_WRITES_LUA).tlOnceWrites(keys.length, ...keys, ...args)) as [number, string | number];
    return ok === 0 ? { storedAnalysis: String(second), first: false } : { storedAnalysis: null, first: second === 1 };
  }
}

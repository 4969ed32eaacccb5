import type { Redis } from 'ioredis';
import type { ProductKeys } from '../core/index.ts';
import type { ReplayCycle, ReplaySpec, ReplayState, ReplayStatus } from './replay-types.ts';

export function replayKeys(keys: ProductKeys) {
  return {
    /** Sorted set: replay id by creation time. */
    index: keys.custom('replay', 'index'),
    /** Set of replay ids still running (what a coordinator host looks for). */
    running: keys.custom('replay', 'running'),
    spec: (id: string) => keys.custom('replay', id, 'spec'),
    /** Hash: ReplayState fields; money in micro-dollars so concurrent increments stay exact. */
    state: (id: string) => keys.custom('replay', id, 'state'),
    /** Hash: task index → ReplayCycle JSON. */
    cycles: (id: string) => keys.custom('replay', id, 'cycles'),
    /** Set of task indices enqueued and not yet recorded. */
    inflight: (id: string) => keys.custom('replay', id, 'inflight'),
    lease: (id: string) => keys.lock(`replay:${id}`),
  };
}

const MICROS = 1_000_000;

/** Records a cycle once per task index (a second call for the same index changes nothing). */
const RECORD_CYCLE = `
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end
redis.call('SREM', KEYS[2], ARGV[1])
redis.call('HINCRBY', KEYS[3], 'done', 1)
redis.call('HINCRBY', KEYS[3], 'cost_micros', ARGV[3])
redis.call('HINCRBY', KEYS[3], 'tokens', ARGV[4])
if ARGV[6] == '1' then redis.call('HINCRBY', KEYS[3], 'cost_unknown_cycles', 1) end
if ARGV[5] == 'failed' then
  redis.call('HINCRBY', KEYS[3], 'failed_cycles', 1)
  redis.call('HINCRBY', KEYS[3], 'consecutive_failures', 1)
else
  redis.call('HSET', KEYS[3], 'consecutive_failures', 0)
end
return 1`;

/** Moves a running replay to a final status; false when it had already ended (cancel racing the finish). */
const FINISH = `
if redis.call('HGET', KEYS[1], 'status') ~= 'running' then return 0 end
redis.call('HSET', KEYS[1], 'status', ARGV[1], 'finished_at', ARGV[2], 'reason', ARGV[3])
redis.call('SREM', KEYS[2], ARGV[4])
return 1`;

export async function saveNewReplay(redis: Redis, keys: ProductKeys, spec: ReplaySpec, now: Date): Promise<void> {
  const k = replayKeys(keys);
  await redis
    .multi()
    .set(k.spec(spec.id), JSON.stringify(spec))
    .hset(k.state(spec.id), { status: 'running', next: 0, done: 0, failed_cycles: 0, consecutive_failures: 0, cost_micros: 0, cost_unknown_cycles: 0, tokens: 0, started_at: now.toISOString(), finished_at: '', reason: '' })
    .zadd(k.index, now.getTime(), spec.id)
    .sadd(k.running, spec.id)
    .exec();
}

export async function readSpec(redis: Redis, keys: ProductKeys, id: string): Promise<ReplaySpec | null> {
  const raw = await redis.get(replayKeys(keys).spec(id));
  return raw ? (JSON.parse(raw) as ReplaySpec) : null;
}

export async function readState(redis: Redis, keys: ProductKeys, id: string): Promise<ReplayState | null> {
  const h = await redis.hgetall(replayKeys(keys).state(id));
  if (!h.status) return null;
  return {
    status: h.status as ReplayStatus,
    next: Number(h.next ?? 0),
    done: Number(h.done ?? 0),
    failed_cycles: Number(h.failed_cycles ?? 0),
    consecutive_failures: Number(h.consecutive_failures ?? 0),
    cost_usd: Number(h.cost_micros ?? 0) / MICROS,
    cost_unknown_cycles: Number(h.cost_unknown_cycles ?? 0),
    tokens: Number(h.tokens ?? 0),
    started_at: h.started_at ?? '',
    finished_at: h.finished_at || null,
    reason: h.reason || null,
  };
}

export async function readCycles(redis: Redis, keys: ProductKeys, id: string): Promise<ReplayCycle[]> {
  const all = await redis.hgetall(replayKeys(keys).cycles(id));
  return Object.values(all)
    .map((v) => JSON.parse(v) as ReplayCycle)
    .sort((a, b) => a.i - b.i);
}

export async function recordCycle(redis: Redis, keys: ProductKeys, id: string, cycle: ReplayCycle): Promise<boolean> {
  const k = replayKeys(keys);
  const r = await redis.eval(RECORD_CYCLE, 3, k.cycles(id), k.inflight(id), k.state(id), String(cycle.i), JSON.stringify(cycle), Math.round(cycle.cost_usd * MICROS), cycle.tokens, cycle.status, cycle.cost_unknown ? '1' : '0');
  return Number(r) === 1;
}

/** Marks consecutive tasks enqueued: in flight, and the cursor past the last. */
export async function markEnqueued(redis: Redis, keys: ProductKeys, id: string, tasks: number[]): Promise<void> {
  if (tasks.length === 0) return;
  const k = replayKeys(keys);
  await redis.multi().sadd(k.inflight(id), ...tasks.map(String)).hset(k.state(id), 'next', Math.max(...tasks) + 1).exec();
}

export async function readInflight(redis: Redis, keys: ProductKeys, id: string): Promise<number[]> {
  return (await redis.smembers(replayKeys(keys).inflight(id))).map(Number).sort((a, b) => a - b);
}

export async function finishReplay(redis: Redis, keys: ProductKeys, id: string, status: Exclude<ReplayStatus, 'running'>, reason: string, now: Date): Promise<boolean> {
  const k = replayKeys(keys);
  return Number(await redis.eval(FINISH, 2, k.state(id), k.running, status, now.toISOString(), reason, id)) === 1;
}

export async function listReplayIds(redis: Redis, keys: ProductKeys, limit = 100): Promise<string[]> {
  return redis.zrevrange(replayKeys(keys).index, 0, limit - 1);
}

export async function runningReplayIds(redis: Redis, keys: ProductKeys): Promise<string[]> {
  return (await redis.smembers(replayKeys(keys).running)).sort();
}

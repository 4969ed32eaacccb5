import type { Redis } from 'ioredis';
import { DateTime } from 'luxon';
import { productKeys, type Decision } from '../core/index.ts';
import type { Bar } from './analysis-types.ts';

/** One decision, later scored by its forward returns at +1 and +5 trading days. */
export interface ScoredDecision {
  job_id: string;
  agent: string;
  ticker: string;
  date: string;
  decision: Decision;
  price: number;
  models: string[];
  cost_usd: number;
  cycle_ms: number;
  at: string;
  return_1d: number | null;
  return_5d: number | null;
}

const keysFor = (prefix: string) => {
  const k = productKeys(prefix);
  return {
    entries: (agent: string) => k.custom('scorecard', agent),
    pending: (ticker: string) => k.custom('scorecard', 'pending', ticker),
  };
};

export async function recordDecision(redis: Redis, prefix: string, d: Omit<ScoredDecision, 'return_1d' | 'return_5d'>): Promise<void> {
  const k = keysFor(prefix);
  const entry: ScoredDecision = { ...d, return_1d: null, return_5d: null };
  // HSETNX: a retried cycle of the same job id records its decision once.
  if ((await redis.hsetnx(k.entries(d.agent), d.job_id, JSON.stringify(entry))) === 1) {
    await redis.sadd(k.pending(d.ticker), `${d.agent}|${d.job_id}`);
  }
}

/**
 * Fills in forward returns for earlier decisions on this ticker from daily bars a cycle has fetched
 * anyway (no extra data calls). An entry leaves the pending set once its +5-day return is known.
 */
export async function updateForwardReturns(redis: Redis, prefix: string, ticker: string, daily: Bar[]): Promise<number> {
  const k = keysFor(prefix);
  const pending = await redis.smembers(k.pending(ticker));
  if (pending.length === 0 || daily.length === 0) return 0;
  const dates = daily.map((b) => DateTime.fromISO(b.t, { zone: 'America/New_York' }).toISODate()!);
  let updated = 0;
  for (const member of pending) {
    const [agent, jobId] = member.split('|') as [string, string];
    const raw = await redis.hget(k.entries(agent), jobId);
    if (!raw) {
      await redis.srem(k.pending(ticker), member);
      continue;
    }
    const e = JSON.parse(raw) as ScoredDecision;
    const i = dates.indexOf(e.date);
    if (i < 0) continue;
    const ret = (n: number) => (i + n < daily.length ? Math.round((daily[i + n]!.c / e.price - 1) * 1e6) / 1e6 : null);
    const r1 = ret(1);
    const r5 = ret(5);
    if (r1 === e.return_1d && r5 === e.return_5d) continue;
    await redis.hset(k.entries(agent), jobId, JSON.stringify({ ...e, return_1d: r1, return_5d: r5 }));
    if (r5 !== null) await redis.srem(k.pending(ticker), member);
    updated++;
  }
  return updated;
}

const avg = (xs: number[]) => (xs.length ? Math.round((xs.reduce((a, b) => a + b, 0) / xs.length) * 1e6) / 1e6 : null);

function summarise(entries: ScoredDecision[]) {
  const byDecision = (d: Decision, key: 'return_1d' | 'return_5d') => avg(entries.filter((e) => e.decision === d && e[key] !== null).map((e) => e[key]!));
  const directional = entries.filter((e) => e.decision !== 'HOLD' && e.return_5d !== null);
  const hits = directional.filter((e) => (e.decision === 'BUY' ? e.return_5d! > 0 : e.return_5d! < 0)).length;
  return {
    decisions: entries.length,
    scored: directional.length,
    hit_rate: directional.length ? Math.round((hits / directional.length) * 1000) / 1000 : null,
    avg_forward_return: {
      '1d': { BUY: byDecision('BUY', 'return_1d'), SELL: byDecision('SELL', 'return_1d'), HOLD: byDecision('HOLD', 'return_1d') },
      '5d': { BUY: byDecision('BUY', 'return_5d'), SELL: byDecision('SELL', 'return_5d'), HOLD: byDecision('HOLD', 'return_5d') },
    },
    avg_cost_usd: avg(entries.map((e) => e.cost_usd)),
    avg_cycle_ms: avg(entries.map((e) => e.cycle_ms)),
  };
}

/** Hit rate, average forward return by decision, cost and cycle time — per agent and per model. */
export async function getScorecard(redis: Redis, prefix: string, agent: string) {
  const raw = Object.values(await redis.hgetall(keysFor(prefix).entries(agent)));
  if (raw.length === 0) return null;
  const entries = raw.map((r) => JSON.parse(r) as ScoredDecision);
  const models = new Map<string, ScoredDecision[]>();
  for (const e of entries) {
    const m = e.models.join('+') || 'quant';
    models.set(m, [...(models.get(m) ?? []), e]);
  }
  return {
    agent,
    ...summarise(entries),
    by_model: [...models.entries()].map(([model, es]) => ({ model, ...summarise(es) })),
  };
}

import type { Redis } from 'ioredis';
import type { Decision } from '../../core/index.ts';
import { scorecardKeys, type ScoredDecision } from './decision-log.ts';

type ByDecision = Record<Decision, number | null>;

export interface ScorecardSummary {
  decisions: number;
  /** BUY and SELL decisions whose +5-session return is known. */
  scored: number;
  /** Share of scored BUYs followed by a rise and SELLs followed by a fall over 5 sessions. */
  hit_rate: number | null;
  hit_rate_1d: number | null;
  avg_forward_return: { '1d': ByDecision; '5d': ByDecision };
  /** Average over the decisions whose cost is known; null when there are none. */
  avg_cost_usd: number | null;
  /** Decisions whose cost is not known (an unpriced hosted model, a server that reported no usage): left out of avg_cost_usd, never counted as $0. */
  cost_unknown_decisions: number;
  avg_cycle_ms: number | null;
}

export interface Scorecard extends ScorecardSummary {
  agent: string;
  /** The same figures per model combination (`quant` for the quant engine). */
  by_model: Array<ScorecardSummary & { model: string }>;
}

const avg = (xs: number[]) => (xs.length ? Math.round((xs.reduce((a, b) => a + b, 0) / xs.length) * 1e6) / 1e6 : null);

function hitRate(entries: ScoredDecision[], key: 'return_1d' | 'return_5d') {
  const directional = entries.filter((e) => e.decision !== 'HOLD' && e[key] !== null);
  const hits = directional.filter((e) => (e.decision === 'BUY' ? e[key]! > 0 : e[key]! < 0)).length;
  return { scored: directional.length, rate: directional.length ? Math.round((hits / directional.length) * 1000) / 1000 : null };
}

export function summarise(entries: ScoredDecision[]): ScorecardSummary {
  const mean = (d: Decision, key: 'return_1d' | 'return_5d') => avg(entries.filter((e) => e.decision === d && e[key] !== null).map((e) => e[key]!));
  const five = hitRate(entries, 'return_5d');
  return {
    decisions: entries.length,
    scored: five.scored,
    hit_rate: five.rate,
    hit_rate_1d: hitRate(entries, 'return_1d').rate,
    avg_forward_return: {
      '1d': { BUY: mean('BUY', 'return_1d'), SELL: mean('SELL', 'return_1d'), HOLD: mean('HOLD', 'return_1d') },
      '5d': { BUY: mean('BUY', 'return_5d'), SELL: mean('SELL', 'return_5d'), HOLD: mean('HOLD', 'return_5d') },
    },
    // A cycle with an unpriced model has no known cost: averaging its partial sum would claim one.
    avg_cost_usd: avg(entries.filter((e) => !e.cost_unknown).map((e) => e.cost_usd)),
    cost_unknown_decisions: entries.filter((e) => e.cost_unknown).length,
    avg_cycle_ms: avg(entries.map((e) => e.cycle_ms)),
  };
}

/** Hit rate, average forward return by decision, cost and cycle time — per agent and per model. Null before the first decision. */
export async function getScorecard(redis: Redis, prefix: string, agent: string): Promise<Scorecard | null> {
  return scorecardOf(agent, await readScoredDecisions(redis, prefix, agent));
}

/** Every decision of an agent Redis still keeps (SCORECARD_RETAIN_DAYS). */
export async function readScoredDecisions(redis: Redis, prefix: string, agent: string): Promise<ScoredDecision[]> {
  return Object.values(await redis.hgetall(scorecardKeys(prefix).entries(agent))).map((r) => JSON.parse(r) as ScoredDecision);
}

/** The scorecard of these decisions, wherever they were read from (Redis, or the durable history). */
export function scorecardOf(agent: string, entries: ScoredDecision[]): Scorecard | null {
  if (entries.length === 0) return null;
  const models = new Map<string, ScoredDecision[]>();
  for (const e of entries) {
    const m = [...e.models].sort().join('+') || 'quant';
    models.set(m, [...(models.get(m) ?? []), e]);
  }
  return {
    agent,
    ...summarise(entries),
    by_model: [...models.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([model, es]) => ({ model, ...summarise(es) })),
  };
}

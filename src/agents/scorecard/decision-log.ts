import type { Redis } from 'ioredis';
import { productKeys, type ScoredDecision } from '../../core/index.ts';

export type { ScoredDecision } from '../../core/index.ts';

export function scorecardKeys(prefix: string) {
  const k = productKeys(prefix);
  return {
    /** Hash job id → ScoredDecision JSON, per agent. */
    entries: (agent: string) => k.custom('scorecard', agent),
    /** Set of `agent|job id` still waiting for a forward return, per ticker. */
    pending: (ticker: string) => k.custom('scorecard', 'pending', ticker),
    pendingTickers: k.custom('scorecard', 'pending-tickers'),
    /** The last closed session a ticker's pending decisions were scored against (skips needless passes). */
    scoredThrough: (ticker: string, source: string) => k.custom('scorecard', 'scored-through', ticker, source),
  };
}

/** The session a decision's forward returns count from: that of its price (older entries: their date). */
export const pricedOn = (e: Pick<ScoredDecision, 'date' | 'price_date'>): string => e.price_date ?? e.date;

/** Records a completed decision once per job id (a retried cycle does not count twice). */
export async function recordDecision(redis: Redis, prefix: string, d: Omit<ScoredDecision, 'return_1d' | 'return_5d'>): Promise<boolean> {
  const k = scorecardKeys(prefix);
  const entry: ScoredDecision = { ...d, return_1d: null, return_5d: null };
  if ((await redis.hsetnx(k.entries(d.agent), d.job_id, JSON.stringify(entry))) !== 1) return false;
  await redis.multi().sadd(k.pending(d.ticker), `${d.agent}|${d.job_id}`).sadd(k.pendingTickers, d.ticker).del(k.scoredThrough(d.ticker, d.data_source ?? 'unknown')).exec();
  return true;
}

/** The forward returns recorded so far for these decisions (for the durable history's copy). */
export async function readForwardReturns(redis: Redis, prefix: string, decisions: Array<{ job_id: string; agent: string }>): Promise<Array<{ job_id: string; return_1d: number | null; return_5d: number | null }>> {
  const k = scorecardKeys(prefix);
  const byAgent = new Map<string, string[]>();
  for (const d of decisions) byAgent.set(d.agent, [...(byAgent.get(d.agent) ?? []), d.job_id]);
  const out: Array<{ job_id: string; return_1d: number | null; return_5d: number | null }> = [];
  for (const [agent, ids] of byAgent) {
    const raws = await redis.hmget(k.entries(agent), ...ids);
    raws.forEach((raw) => {
      if (!raw) return;
      const e = JSON.parse(raw) as ScoredDecision;
      if (e.return_1d !== null || e.return_5d !== null) out.push({ job_id: e.job_id, return_1d: e.return_1d, return_5d: e.return_5d });
    });
  }
  return out;
}

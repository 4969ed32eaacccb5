import { DECISIONS, type Decision } from '../../core/index.ts';
import { pricedOn, type ScoredDecision } from './decision-log.ts';

/** One side of a head-to-head, over the decision points both agents decided. */
export interface HeadToHeadSide {
  agent: string;
  /** All of this agent's decisions in the window, shared or not. */
  decisions: number;
  /** BUY and SELL calls on shared points whose +5-session return is known, and the share that were right. */
  scored: number;
  hit_rate: number | null;
  /** Mean +5-session return of following its BUY and SELL calls on shared points (a SELL gains when the price falls). */
  avg_call_return_5d: number | null;
  /** Known cost of the shared points; cycles with an unknown cost are left out and counted. */
  cost_usd: number;
  cost_unknown: number;
  /** Mean known cost of one shared decision; null when none is known. */
  avg_cost_usd: number | null;
}

export interface HeadToHead {
  a: HeadToHeadSide;
  b: HeadToHeadSide;
  /** (ticker, price session, data source) points both agents decided. */
  shared: number;
  agreement_rate: number | null;
  /** confusion[a's decision][b's decision]. */
  confusion: Record<Decision, Record<Decision, number>>;
  /** Shared points where they disagreed and the +5-session return is known: whose call the market bore out. */
  disagreements: { scored: number; a_right: number; b_right: number; neither: number };
  /** a's mean cost per shared decision over b's; null when either is unknown or b's is 0 (a local or quant agent). */
  cost_ratio: number | null;
}

const round = (n: number, d = 6) => Math.round(n * 10 ** d) / 10 ** d;
const mean = (xs: number[]) => (xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : null);

/** A call is right when the price moved its way over the next five sessions; a HOLD is never scored right. */
const right = (d: Decision, r: number) => (d === 'BUY' ? r > 0 : d === 'SELL' ? r < 0 : false);

/**
 * Each agent's decision per (ticker, session of the price it saw, data source): with several a session
 * (an intraday schedule), the last one recorded stands for the session, as a trader's end-of-day view
 * would. Decisions on different sources (real against simulated prices) are never paired.
 */
function bySession(entries: ScoredDecision[]): Map<string, ScoredDecision> {
  const out = new Map<string, ScoredDecision>();
  for (const e of [...entries].sort((x, y) => x.at.localeCompare(y.at))) out.set(`${e.ticker}|${pricedOn(e)}|${e.data_source ?? 'unknown'}`, e);
  return out;
}

function side(agent: string, all: ScoredDecision[], shared: ScoredDecision[]): HeadToHeadSide {
  const directional = shared.filter((e) => e.decision !== 'HOLD' && e.return_5d !== null);
  const hits = directional.filter((e) => right(e.decision, e.return_5d!)).length;
  const followed = mean(directional.map((e) => (e.decision === 'BUY' ? e.return_5d! : -e.return_5d!)));
  const known = shared.filter((e) => !e.cost_unknown);
  const avgCost = mean(known.map((e) => e.cost_usd));
  return {
    agent,
    decisions: all.length,
    scored: directional.length,
    hit_rate: directional.length ? round(hits / directional.length, 4) : null,
    avg_call_return_5d: followed === null ? null : round(followed),
    cost_usd: round(known.reduce((s, e) => s + e.cost_usd, 0)),
    cost_unknown: shared.length - known.length,
    avg_cost_usd: avgCost === null ? null : round(avgCost),
  };
}

/**
 * Two agents on the same tickers, compared where both decided on the same session's price: how often
 * they agree, whose calls the market bore out where they did not, and what each decision cost.
 */
export function headToHead(a: string, ofA: ScoredDecision[], b: string, ofB: ScoredDecision[]): HeadToHead {
  const sa = bySession(ofA);
  const sb = bySession(ofB);
  const confusion = Object.fromEntries(DECISIONS.map((x) => [x, Object.fromEntries(DECISIONS.map((y) => [y, 0]))])) as Record<Decision, Record<Decision, number>>;
  const sharedA: ScoredDecision[] = [];
  const sharedB: ScoredDecision[] = [];
  let agreed = 0;
  const disagreements = { scored: 0, a_right: 0, b_right: 0, neither: 0 };
  for (const [point, da] of sa) {
    const db = sb.get(point);
    if (!db) continue;
    sharedA.push(da);
    sharedB.push(db);
    confusion[da.decision][db.decision]++;
    if (da.decision === db.decision) {
      agreed++;
      continue;
    }
    // Both were priced on the same session's bar, so one forward return judges both calls.
    const r = da.return_5d ?? db.return_5d;
    if (r === null) continue;
    disagreements.scored++;
    if (right(da.decision, r)) disagreements.a_right++;
    else if (right(db.decision, r)) disagreements.b_right++;
    else disagreements.neither++;
  }
  const A = side(a, ofA, sharedA);
  const B = side(b, ofB, sharedB);
  const priced = A.cost_unknown === 0 && B.cost_unknown === 0 && A.avg_cost_usd !== null && B.avg_cost_usd !== null && B.avg_cost_usd > 0;
  return {
    a: A,
    b: B,
    shared: sharedA.length,
    agreement_rate: sharedA.length ? round(agreed / sharedA.length, 4) : null,
    confusion,
    disagreements,
    cost_ratio: priced ? round(A.avg_cost_usd! / B.avg_cost_usd!, 4) : null,
  };
}

import { DECISIONS, type Decision } from '../core/index.ts';
import type { ReplayCycle } from './replay-types.ts';

export interface PairComparison {
  a: string;
  b: string;
  /** Decision points (slot, ticker) both profiles decided. */
  compared: number;
  agreement_rate: number | null;
  /** confusion[a's decision][b's decision] = how many decision points. */
  confusion: Record<Decision, Record<Decision, number>>;
  /** Known costs: each a lower bound when that side has cycles of unknown cost. */
  cost_usd: { a: number; b: number };
  cost_unknown_cycles: { a: number; b: number };
  /** a's cost over b's; null when b cost nothing (a local or quant profile) or either side's cost is not fully known. */
  cost_ratio: number | null;
}

const round = (n: number, d = 6) => Math.round(n * 10 ** d) / 10 ** d;

/** Agreement, the 3×3 BUY/SELL/HOLD confusion matrix and the cost ratio of two profiles' cycles. */
export function comparePair(a: string, b: string, cycles: ReplayCycle[]): PairComparison {
  const key = (c: ReplayCycle) => `${c.date}|${c.as_of ?? ''}|${c.ticker}`;
  const ofA = new Map<string, Decision>();
  const ofB = new Map<string, Decision>();
  let costA = 0;
  let costB = 0;
  const unknown = { a: 0, b: 0 };
  for (const c of cycles) {
    if (c.profile === a) costA += c.cost_usd;
    if (c.profile === b) costB += c.cost_usd;
    if (c.cost_unknown && c.profile === a) unknown.a++;
    if (c.cost_unknown && c.profile === b) unknown.b++;
    if (c.status !== 'completed' || !c.decision) continue;
    if (c.profile === a) ofA.set(key(c), c.decision);
    if (c.profile === b) ofB.set(key(c), c.decision);
  }
  const confusion = Object.fromEntries(DECISIONS.map((x) => [x, Object.fromEntries(DECISIONS.map((y) => [y, 0]))])) as Record<Decision, Record<Decision, number>>;
  let compared = 0;
  let agreed = 0;
  for (const [k, da] of ofA) {
    const db = ofB.get(k);
    if (!db) continue;
    compared++;
    confusion[da][db]++;
    if (da === db) agreed++;
  }
  return {
    a,
    b,
    compared,
    agreement_rate: compared ? round(agreed / compared, 4) : null,
    confusion,
    cost_usd: { a: round(costA), b: round(costB) },
    cost_unknown_cycles: unknown,
    // A ratio of partial sums would claim a precision nobody has: none then.
    cost_ratio: costB > 0 && unknown.a === 0 && unknown.b === 0 ? round(costA / costB, 4) : null,
  };
}

/** Every pair of profiles, in the order the replay lists them. */
export function compareAll(profiles: string[], cycles: ReplayCycle[]): PairComparison[] {
  const out: PairComparison[] = [];
  for (let x = 0; x < profiles.length; x++) for (let y = x + 1; y < profiles.length; y++) out.push(comparePair(profiles[x]!, profiles[y]!, cycles));
  return out;
}

import type { Decision, Rating } from './contracts.ts';

/** One decision, later scored by its forward returns at +1 and +5 trading days. */
export interface ScoredDecision {
  job_id: string;
  agent: string;
  ticker: string;
  /** Analysis date (New York). */
  date: string;
  decision: Decision;
  rating?: Rating;
  confidence?: number;
  engine?: string;
  /** Where the price came from; a decision is scored only with bars from the same source. */
  data_source?: string;
  /** The price the decision was taken at. */
  price: number;
  /**
   * The session (New York date) whose bar gave that price: the day of the result's `as_of`. Earlier than
   * `date` when the cycle decided on the session before (run before the open); forward returns count from it.
   */
  price_date?: string;
  models: string[];
  cost_usd: number;
  /** An unpriced hosted model was called: cost_usd leaves those calls out, so the cost average skips it. */
  cost_unknown?: boolean;
  cycle_ms: number;
  /** When the decision was recorded. */
  at: string;
  /** Close of the n-th session after the price's session ÷ price − 1; null until that session has closed. */
  return_1d: number | null;
  return_5d: number | null;
}

import type { AgentProfile, Decision, Rating } from '../core/index.ts';

/** The states of a replay; every one but `running` is final. */
export const REPLAY_STATUSES = ['running', 'done', 'cancelled', 'budget_exhausted', 'failed'] as const;
export type ReplayStatus = (typeof REPLAY_STATUSES)[number];

/** One decision point: a session's close (`as_of` null) or an intraday slot of a schedule. */
export interface ReplaySlot {
  date: string;
  /** ISO instant of an intraday slot; null = the session's close. */
  as_of: string | null;
}

/** What a replay was asked to do, frozen when it starts (a later schedules.yaml edit does not change it). */
export interface ReplaySpec {
  id: string;
  created_at: string;
  profiles: string[];
  tickers: string[];
  from: string;
  to: string;
  schedule_id: string | null;
  max_cost_usd: number | null;
  /** The profiles' settings at start: engine, models, portfolio. */
  settings: Record<string, AgentProfile>;
  slots: ReplaySlot[];
  /** slots × profiles × tickers. */
  total: number;
}

/** Where a replay is; kept apart from the spec so progress writes stay small. */
export interface ReplayState {
  status: ReplayStatus;
  /** Index of the next task to enqueue. */
  next: number;
  done: number;
  failed_cycles: number;
  consecutive_failures: number;
  /** The known costs' sum: a lower bound when cost_unknown_cycles > 0. */
  cost_usd: number;
  /** Recorded cycles some of whose cost is not known (an unpriced hosted model, a server that reported no usage). */
  cost_unknown_cycles: number;
  tokens: number;
  started_at: string;
  finished_at: string | null;
  reason: string | null;
}

/** One finished cycle of a replay, as recorded from its job. */
export interface ReplayCycle {
  /** Task index: slot-major, then profile, then ticker. */
  i: number;
  profile: string;
  ticker: string;
  date: string;
  as_of: string | null;
  status: 'completed' | 'failed';
  decision: Decision | null;
  rating: Rating | null;
  confidence: number | null;
  price: number | null;
  /** When that price was struck (the result's `as_of`); its New York day is the session the price came from. Null: unknown (a failed cycle, or a record from before this field). */
  price_as_of?: string | null;
  data_source: string | null;
  /** What the job spent on models, all attempts; the known part when cost_unknown. */
  cost_usd: number;
  /** Some of the cycle's cost is not known (absent in records from before this field: known). */
  cost_unknown?: boolean;
  /** Some call came without usage from the server (its tokens are not in `tokens`). */
  usage_unknown?: boolean;
  tokens: number;
  cycle_ms: number | null;
  job_id: string;
  error: string | null;
  recorded_at: string;
}

/** The task at index `i`: which slot, profile and ticker it analyses. */
export function taskAt(spec: Pick<ReplaySpec, 'slots' | 'profiles' | 'tickers'>, i: number): { slot: number; profile: string; ticker: string } {
  const perSlot = spec.profiles.length * spec.tickers.length;
  const slot = Math.floor(i / perSlot);
  const rem = i % perSlot;
  return { slot, profile: spec.profiles[Math.floor(rem / spec.tickers.length)]!, ticker: spec.tickers[rem % spec.tickers.length]! };
}

/** BullMQ job id of a replay's task: deterministic, so enqueuing again after a restart adds nothing. */
export function replayJobId(replayId: string, i: number): string {
  return `replay-${replayId}-${i}`;
}

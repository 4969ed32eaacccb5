import type { AgentProfile, CycleOptions, CycleResult, Decision, Rating, Reports, Usage } from '../core/index.ts';

/** One OHLCV bar; `t` is the bar's open time as ISO-8601 UTC. */
export interface Bar {
  t: string;
  o: number;
  h: number;
  l: number;
  c: number;
  v: number;
}

export interface NewsItem {
  title: string;
  publisher?: string;
  published_at?: string;
  url?: string;
  summary?: string;
}

/**
 * Everything an engine analyses, fetched before analysis starts (small models get their data in the
 * prompt rather than through tool calls). A `null` section means the source does not have it: analysts
 * must say so rather than invent data.
 */
export interface MarketSnapshot {
  ticker: string;
  /** Analysis date, YYYY-MM-DD in New York. */
  date: string;
  /** `yahoo`, `alpaca` or `simulated`. */
  data_source: string;
  daily: Bar[];
  intraday: Bar[] | null;
  quote: { price: number; time: string } | null;
  fundamentals: Record<string, number | string | null> | null;
  news: NewsItem[] | null;
  /**
   * When the price (the last bar's close) was struck: a 5-minute bar's end (five minutes after its
   * opening stamp), or for a daily bar its session's close (a bar still forming: no later than when it
   * was read). Point in time: nothing after the close of `date` in New York.
   */
  as_of: string;
  /** Sections the source could not give as of `date` (reported unavailable, never filled with today's). */
  unavailable: string[];
  /** Latest indicator values by name (sma50, sma200, ema10, rsi14, macd, macd_signal, macd_hist, bb_upper, bb_middle, bb_lower, atr14, vwma20 …). */
  indicators: Record<string, number | null>;
}

/** What an engine decides, before the cycle adds timing, data source and the paper fill. */
export interface AnalysisOutcome {
  decision: Decision;
  rating: Rating;
  confidence: number;
  reports: Reports;
  models: string[];
  usage: Usage;
  /** LLM engine, a retried cycle: the whole job's usage, its earlier attempts' included. */
  job_usage?: Usage;
  /** LLM engine: its audit trail (every call, each role's output, the lessons used). */
  calls?: CycleResult['calls'];
  role_reports?: CycleResult['role_reports'];
  lessons_used?: CycleResult['lessons_used'];
}

export interface EngineInput {
  /** The agent profile's name, for usage accounting. */
  agent?: string;
  snapshot: MarketSnapshot;
  profile: AgentProfile;
  options: CycleOptions;
  /**
   * The live paper account is this cycle's account: a cycle for today that is not a replay. A backdated
   * or replayed cycle never sees today's live position (it did not exist at its date, and its decision
   * is not filled there).
   */
  liveAccount?: boolean;
}

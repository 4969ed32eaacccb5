/**
 * Types that cross rooms, declared once from zod schemas so validation and types cannot drift.
 * Only JSON goes through the queues: every schema here is plain data.
 */
import { z } from 'zod';
import { QUEUE_NAMES } from './queues.ts';

export const TICKER_PATTERN = /^[A-Z][A-Z0-9.\-]{0,9}$/;
export const tickerSchema = z
  .string()
  .transform((s) => s.trim().toUpperCase())
  .pipe(z.string().regex(TICKER_PATTERN, 'must be a ticker symbol like SPY, BRK.B (1-10 letters/digits)'));

/** True for a real calendar date: Date.parse rolls 2025-02-30 over to March 2nd, so compare the parts. */
export function isRealCalendarDate(s: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const t = new Date(Date.UTC(y, mo - 1, d));
  return t.getUTCFullYear() === y && t.getUTCMonth() === mo - 1 && t.getUTCDate() === d;
}

export const isoDateSchema = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date as YYYY-MM-DD')
  .refine(isRealCalendarDate, 'is not a real calendar date');

export const AGENT_NAME_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;
export const agentNameSchema = z
  .string()
  .regex(AGENT_NAME_PATTERN, 'must be lowercase letters, digits, "-" or "_" (max 64)');

export const DECISIONS = ['BUY', 'SELL', 'HOLD'] as const;
export const decisionSchema = z.enum(DECISIONS);
export type Decision = z.infer<typeof decisionSchema>;

/** TradingAgents' five-tier rating; Overweight maps to BUY and Underweight to SELL. */
export const RATINGS = ['Buy', 'Overweight', 'Hold', 'Underweight', 'Sell'] as const;
export const ratingSchema = z.enum(RATINGS);
export type Rating = z.infer<typeof ratingSchema>;

/** `awaiting_approval`, `rejected`, `expired`: a decision of an `approval: required` profile and how it was settled. */
export const JOB_STATUSES = ['pending', 'running', 'completed', 'failed', 'cancelled', 'skipped', 'awaiting_approval', 'rejected', 'expired'] as const;
export const jobStatusSchema = z.enum(JOB_STATUSES);
export type JobStatus = z.infer<typeof jobStatusSchema>;

export const MARKET_HOURS = ['regular', 'extended', 'always'] as const;
export const marketHoursSchema = z.enum(MARKET_HOURS);
export type MarketHours = z.infer<typeof marketHoursSchema>;

export const TRIGGERS = ['schedule', 'manual', 'api', 'replay'] as const;

/** `reasoning_effort` for reasoning models (gpt-5*, o-series); other models ignore it. */
export const REASONING_EFFORT_LEVELS = ['none', 'minimal', 'low', 'medium', 'high'] as const;
export const reasoningEffortSchema = z.enum(REASONING_EFFORT_LEVELS);
/** No cycle may be given a larger token budget than this, whatever its profile says. */
export const MAX_TOKENS_PER_CYCLE_CEILING = 2_000_000;

/** Per-cycle options a caller may pass (`config` in POST /api/jobs); validated, never free-form. */
export const cycleOptionsSchema = z
  .object({
    engine: z.enum(['quant', 'llm']).optional(),
    quick_model: z.string().min(1).max(100).optional(),
    deep_model: z.string().min(1).max(100).optional(),
    debate_rounds: z.number().int().min(0).max(5).optional(),
    risk_rounds: z.number().int().min(0).max(5).optional(),
    analysts: z.array(z.enum(['market', 'fundamentals', 'news', 'sentiment'])).min(1).max(4).optional(),
    temperature: z.number().min(0).max(2).optional(),
    quick_reasoning_effort: reasoningEffortSchema.optional(),
    deep_reasoning_effort: reasoningEffortSchema.optional(),
    max_tokens_per_cycle: z.number().int().min(1000).max(MAX_TOKENS_PER_CYCLE_CEILING).optional(),
  })
  .strict();
export type CycleOptions = z.infer<typeof cycleOptionsSchema>;

/** Paper portfolio settings of an agent profile. */
export const portfolioSettingsSchema = z
  .object({
    starting_cash: z.number().positive().default(100_000),
    /** BUY → hold this fraction of equity in the ticker. */
    target_percent: z.number().gt(0).max(1).default(0.1),
    commission_per_trade: z.number().min(0).default(1),
    slippage_bps: z.number().min(0).max(1000).default(5),
  })
  .strict();

/** An agent profile from the `agents:` map of schedules.yaml. */
export const agentProfileSchema = z
  .object({
    engine: z.enum(['quant', 'llm']).default('quant'),
    description: z.string().max(500).optional(),
    quick_model: z.string().min(1).default('gpt-4o-mini'),
    deep_model: z.string().min(1).default('gpt-4o'),
    analysts: z
      .array(z.enum(['market', 'fundamentals', 'news', 'sentiment']))
      .min(1)
      .default(['market', 'fundamentals', 'news', 'sentiment']),
    debate_rounds: z.number().int().min(0).max(5).default(1),
    risk_rounds: z.number().int().min(0).max(5).default(1),
    /** Sent to models that take it; reasoning models (gpt-5*, o-series) get none. */
    temperature: z.number().min(0).max(2).default(0.2),
    /** Reasoning effort of the quick roles (analysts, researchers, trader, risk stances, reflection). */
    quick_reasoning_effort: reasoningEffortSchema.default('low'),
    /** Reasoning effort of the deep roles (research manager, portfolio manager). */
    deep_reasoning_effort: reasoningEffortSchema.default('medium'),
    /** Output cap per call of a reasoning model (`max_completion_tokens`, reasoning tokens included). */
    max_completion_tokens: z.number().int().min(256).max(200_000).default(16_000),
    /** Lessons from the agent's scored decisions given to the portfolio manager: this ticker's, and other tickers'. */
    lessons_same_ticker: z.number().int().min(0).max(20).default(3),
    lessons_other_tickers: z.number().int().min(0).max(20).default(2),
    max_tokens_per_cycle: z.number().int().min(1000).max(MAX_TOKENS_PER_CYCLE_CEILING).default(200_000),
    /** Models a job's `config` may pick besides quick_model and deep_model (nothing else can be chosen per job). */
    allowed_models: z.array(z.string().min(1).max(100)).max(50).default([]),
    max_tool_calls_per_analyst: z.number().int().min(0).max(50).default(4),
    /** `required`: decisions wait for a human to approve them before the paper ledger is filled. */
    approval: z.enum(['none', 'required']).default('none'),
    portfolio: portfolioSettingsSchema.default({
      starting_cash: 100_000,
      target_percent: 0.1,
      commission_per_trade: 1,
      slippage_bps: 5,
    }),
  })
  .strict();
export type AgentProfile = z.infer<typeof agentProfileSchema>;

/** Profiles available even when schedules.yaml defines none. */
export const BUILTIN_AGENTS: Record<string, AgentProfile> = {
  quant: agentProfileSchema.parse({ engine: 'quant', description: 'Built-in quantitative engine (no keys needed)' }),
};

export const replayCycleRefSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'must be a replay id'),
    profile: agentNameSchema,
    as_of: z.iso.datetime({ offset: true }).optional(),
  })
  .strict();
export type ReplayCycleRef = z.infer<typeof replayCycleRefSchema>;

/** What a trading-cycle job carries. Self-contained: a worker needs nothing but this and Redis. */
export const cycleJobDataSchema = z
  .object({
    agent: agentNameSchema,
    ticker: tickerSchema,
    schedule_id: z.string().nullable().default(null),
    trigger: z.enum(TRIGGERS),
    dry_run: z.boolean().default(true),
    /** When the cycle was asked for; scheduled runs carry none (their due time is in the job id). */
    requested_at: z.iso.datetime({ offset: true }).optional(),
    /** Analysis date (YYYY-MM-DD, New York); defaults to the day the job was due (scheduled runs) or asked for, on every attempt. */
    date: isoDateSchema.optional(),
    market_hours: marketHoursSchema.default('always'),
    profile: agentProfileSchema,
    options: cycleOptionsSchema.default({}),
    /** Scheduled runs: the schedule's interval (every), used for the stale-run default. */
    interval_ms: z.number().int().positive().nullable().default(null),
    /** Scheduled runs: how old a missed run may be and still run once (null = catch_up: none). */
    catch_up_ms: z.number().int().positive().nullable().default(null),
    /** A run starting later than this after its due time is skipped as stale (null = default rule). */
    max_start_delay_ms: z.number().int().positive().nullable().default(null),
    overlap: z.enum(['skip', 'allow']).default('skip'),
    /** Per-schedule overrides of the queue's time limits. */
    soft_time_limit_ms: z.number().int().positive().nullable().default(null),
    hard_time_limit_ms: z.number().int().positive().nullable().default(null),
    /** Set when an operator re-queued a failed or cancelled job: its due time no longer makes it stale. */
    retried_at: z.iso.datetime({ offset: true }).optional(),
    /**
     * A replay's cycle: its decision goes to that replay's own ledger (filled in session order by the
     * replay room), never to the live paper portfolio or the live scorecard. `as_of` is the instant of
     * an intraday slot (the cycle sees only bars closed by then); without it the cycle decides at the close.
     */
    replay: replayCycleRefSchema.optional(),
  })
  .strict();
export type CycleJobData = z.infer<typeof cycleJobDataSchema>;
export type CycleJobInput = z.input<typeof cycleJobDataSchema>;

export const usageSchema = z.object({
  prompt_tokens: z.number().int().min(0),
  completion_tokens: z.number().int().min(0),
  total_tokens: z.number().int().min(0),
  cost_usd: z.number().min(0),
  calls: z.number().int().min(0),
  /**
   * True when some call's cost is not known (a hosted model without a known price, or a server that
   * reported no usage): cost_usd then leaves those calls out and is only a lower bound.
   */
  cost_unknown: z.boolean().optional(),
  /** True when a server reported no token usage for some call (`usage: null` or none): the token counts leave those calls out. */
  usage_unknown: z.boolean().optional(),
});
export type Usage = z.infer<typeof usageSchema>;
export const ZERO_USAGE: Usage = { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0, cost_usd: 0, calls: 0 };

export const REPORT_KEYS = ['market', 'fundamentals', 'news', 'sentiment', 'debate', 'trader', 'risk', 'final'] as const;
export const reportsSchema = z.object(
  Object.fromEntries(REPORT_KEYS.map((k) => [k, z.string()])) as Record<(typeof REPORT_KEYS)[number], z.ZodString>,
);
export type Reports = z.infer<typeof reportsSchema>;

export const paperFillSchema = z.object({
  side: z.enum(['BUY', 'SELL']),
  quantity: z.number(),
  price: z.number(),
  fees: z.number(),
  cash_after: z.number(),
});
export type PaperFill = z.infer<typeof paperFillSchema>;

/** One LLM call of a cycle; a cycle's calls sum to its usage. */
export const llmCallSchema = z.object({
  role: z.string(),
  model: z.string(),
  prompt_tokens: z.number().int().min(0),
  completion_tokens: z.number().int().min(0),
  cost_usd: z.number().min(0),
  cost_unknown: z.boolean().optional(),
  /** The server's answer carried no usage: tokens are unknown (reported as 0) and so is the cost. */
  usage_unknown: z.boolean().optional(),
  latency_ms: z.number().min(0),
  /** 1 for a first try; more when transient errors (429, 5xx) were retried. */
  attempt: z.number().int().min(1),
});
export type LlmCall = z.infer<typeof llmCallSchema>;

/** The LLM desk's roles, each output kept on its own. */
export const ROLE_REPORT_KEYS = [
  'market_analyst', 'fundamentals_analyst', 'news_analyst', 'sentiment_analyst',
  'bull_researcher', 'bear_researcher', 'research_manager', 'trader',
  'aggressive_risk', 'conservative_risk', 'neutral_risk', 'portfolio_manager',
] as const;
export type RoleReportKey = (typeof ROLE_REPORT_KEYS)[number];
export const roleReportsSchema = z.partialRecord(z.enum(ROLE_REPORT_KEYS), z.string());
export type RoleReports = z.infer<typeof roleReportsSchema>;
/** One OHLCV bar; `t` is the bar's open time as ISO-8601 UTC. */
export const barSchema = z.object({ t: z.string(), o: z.number(), h: z.number(), l: z.number(), c: z.number(), v: z.number() });
export type BarData = z.infer<typeof barSchema>;

/** How many of the daily bars a cycle analysed its result keeps, for the job page's chart. */
export const RESULT_CHART_BARS = 130;

/** The analysis a cycle produces, whatever the engine. */
export const cycleResultSchema = z.object({
  ticker: z.string(),
  date: z.string(),
  agent: z.string(),
  decision: decisionSchema,
  rating: ratingSchema,
  confidence: z.number().min(0).max(1),
  price: z.number().nullable(),
  reports: reportsSchema,
  indicators: z.record(z.string(), z.number().nullable()),
  data_source: z.string(),
  engine: z.enum(['quant', 'llm']),
  models: z.array(z.string()),
  /** This attempt's model usage: its `calls` sum to it. */
  usage: usageSchema,
  /**
   * Present when earlier attempts of the job made model calls (a retried cycle): the whole job's usage,
   * theirs and this attempt's. What the job cost is this (see jobSpend); the metrics counted each call once.
   */
  job_usage: usageSchema.optional(),
  started_at: z.string(),
  finished_at: z.string(),
  dry_run: z.boolean(),
  /** When the close of the last bar the analysis saw was struck (its end, not its opening stamp): the decision price is that close. */
  as_of: z.string().nullable().optional(),
  fill: paperFillSchema.nullable().default(null),
  /** Why `fill` is null, when it is (a past session, a HOLD, no trade needed, awaiting settlement). */
  fill_note: z.string().optional(),
  /** True when the decision waited for approval: its fill comes from the approval, not the cycle. */
  awaiting_approval: z.boolean().optional(),
  /** LLM engine: every call, in order. */
  calls: z.array(llmCallSchema).optional(),
  /** LLM engine: each role's own output. */
  role_reports: roleReportsSchema.optional(),
  /** LLM engine: the lessons from earlier scored decisions the portfolio manager was given. */
  lessons_used: z.array(z.object({ ticker: z.string(), date: z.string(), lesson: z.string() })).optional(),
  /** The last RESULT_CHART_BARS daily bars the cycle analysed (results written before this field have none). */
  bars: z.array(barSchema).optional(),
});
export type CycleResult = z.infer<typeof cycleResultSchema>;

/** A job's BullMQ return value: a completed analysis, or a cycle deliberately not analysed. */
export const jobOutcomeSchema = z.discriminatedUnion('status', [
  z.object({ status: z.literal('completed'), result: cycleResultSchema }),
  z.object({ status: z.literal('skipped'), reason: z.string(), detail: z.string().optional() }),
  z.object({ status: z.literal('cancelled'), reason: z.string() }),
]);
export type JobOutcome = z.infer<typeof jobOutcomeSchema>;

/** Duration strings in schedules: "30s", "5m", "1h", "1d", or combined "1h30m". */
export function parseDuration(text: string): number | null {
  const m = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(text.trim());
  if (!m || text.trim() === '') return null;
  const [, d, h, min, s] = m;
  const ms = (Number(d ?? 0) * 86_400 + Number(h ?? 0) * 3_600 + Number(min ?? 0) * 60 + Number(s ?? 0)) * 1000;
  return ms > 0 ? ms : null;
}

export const durationSchema = z
  .union([z.string(), z.number()])
  .transform((v, ctx) => {
    const ms = typeof v === 'number' ? v * 1000 : parseDuration(v);
    if (ms === null || !Number.isFinite(ms) || ms <= 0) {
      ctx.addIssue({ code: 'custom', message: `invalid duration ${JSON.stringify(v)} (use e.g. 30s, 5m, 1h, 1h30m)` });
      return z.NEVER;
    }
    return ms;
  });

/**
 * `dry_run` where a user asks for it (the schedule file, POST /api/jobs): only paper trading exists, so `false` is
 * refused up front naming the field, not accepted and failed later by the worker.
 */
export const paperDryRunSchema = z
  .boolean()
  .refine((v) => v, 'false is refused: no broker adapter exists, only paper trading (dry_run: true)')
  .default(true);

/** One entry of schedules.yaml after validation and normalisation. */
export const scheduleEntrySchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'must be lowercase letters, digits, "-" or "_" (max 64)'),
    agent: agentNameSchema,
    ticker: tickerSchema.optional(),
    tickers: z.array(tickerSchema).min(1, 'must list at least one ticker').optional(),
    every: durationSchema.optional(),
    cron: z.string().min(1).optional(),
    timezone: z.string().default('America/New_York'),
    market_hours: marketHoursSchema.default('regular'),
    dry_run: paperDryRunSchema,
    enabled: z.boolean().default(true),
    queue: z.enum(QUEUE_NAMES).default('trading-cycle'),
    catch_up: z.union([z.literal('none'), durationSchema]).default('none'),
    overlap: z.enum(['skip', 'allow']).default('skip'),
    max_start_delay: durationSchema.optional(),
    /** Overrides of the queue's execution defaults for this schedule. */
    attempts: z.number().int().min(1).max(20).optional(),
    soft_time_limit: durationSchema.optional(),
    hard_time_limit: durationSchema.optional(),
    description: z.string().max(500).optional(),
  })
  .strict()
  .superRefine((e, ctx) => {
    if (e.ticker && e.tickers) ctx.addIssue({ code: 'custom', path: ['tickers'], message: 'use either ticker or tickers, not both' });
    if (!e.ticker && !e.tickers) ctx.addIssue({ code: 'custom', path: ['tickers'], message: 'is required (a list, or `ticker` for one)' });
    if (e.every !== undefined && e.cron) ctx.addIssue({ code: 'custom', path: ['cron'], message: 'use either every or cron, not both' });
    if (e.every === undefined && !e.cron) ctx.addIssue({ code: 'custom', path: ['every'], message: 'is required (or cron)' });
    if (e.every !== undefined && e.every < 1000) ctx.addIssue({ code: 'custom', path: ['every'], message: 'must be at least 1s' });
    if (e.soft_time_limit !== undefined && e.hard_time_limit !== undefined && e.hard_time_limit < e.soft_time_limit) {
      ctx.addIssue({ code: 'custom', path: ['hard_time_limit'], message: 'must be at least soft_time_limit (the hard limit stops a cycle the soft one has not)' });
    }
  })
  .transform(({ ticker, tickers, ...rest }) => ({
    ...rest,
    tickers: [...new Set(tickers ?? (ticker ? [ticker] : []))],
  }));
export type ScheduleEntry = z.infer<typeof scheduleEntrySchema>;

/**
 * The job ids this product issues: a UUID (API, CLI), `repeat:<schedule>:<ticker>:<millis>` (BullMQ job
 * schedulers), `catchup:<schedule>:<ticker>@<millis>` (catch-up runs) and `replay-<replay_id>-<n>` (a replay's
 * cycles, listed with the others). Anything else is refused before
 * it reaches Redis, where a raw id like `meta` or `<id>:lock` would name one of BullMQ's own keys.
 */
const UUID_SOURCE = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const UUID_ID = new RegExp(`^${UUID_SOURCE}$`);
export const JOB_ID_PATTERN = new RegExp(
  `^(?:${UUID_SOURCE}|` +
    String.raw`repeat:[a-z0-9][a-z0-9_-]{0,63}:[A-Z][A-Z0-9.-]{0,9}:\d{1,16}|catchup:[a-z0-9][a-z0-9_-]{0,63}:[A-Z][A-Z0-9.-]{0,9}@\d{1,16}|replay-\d{8}-[0-9a-f]{8}-\d{1,9})$`,
);

export function isIssuedJobId(id: string): boolean {
  return JOB_ID_PATTERN.test(id);
}

/** An id we issued as a UUID (the API's and CLI's jobs, a retry's re-add), not a scheduler's or a replay's. */
export function isUuidJobId(id: string): boolean {
  return UUID_ID.test(id);
}

/** The scheduler id of one (schedule, ticker) pair: stable, so upserts are idempotent. */
export function schedulerKey(scheduleId: string, ticker: string): string {
  return `${scheduleId}:${ticker}`;
}

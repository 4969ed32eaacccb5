import type { Redis } from 'ioredis';
import { nyDate } from '../calendar/index.ts';
import { CycleAbortedError, cycleJobDataSchema, incrementCounter, jobSpend, PermanentCycleError, productKeys, RESULT_CHART_BARS, type Config, type CycleJobData, type CycleResult } from '../core/index.ts';
import type { AnalysisOutcome, EngineInput, MarketSnapshot } from './analysis-types.ts';
import type { CycleContext } from './cycle-context.ts';
import type { MarketDataProvider } from './data/market-data-provider.ts';
import { createMarketDataProvider } from './data/provider-selection.ts';
import { buildMarketSnapshot } from './market-snapshot.ts';
import { applyDecision } from './portfolio/paper-ledger.ts';
import { runQuantAnalysis } from './quant/quant-engine.ts';
import { recordDecision } from './scorecard/decision-log.ts';
import { scoreTickerFromBars } from './scorecard/forward-returns.ts';

export interface CycleDeps {
  /** Replaces the provider MARKET_DATA selects (tests, benchmarks). */
  provider?: MarketDataProvider;
  /** Replaces global fetch for the real sources (tests point it at local servers). */
  fetch?: typeof fetch;
}

function checkAborted(signal: AbortSignal): void {
  if (signal.aborted) throw new CycleAbortedError(String(signal.reason instanceof Error ? signal.reason.message : (signal.reason ?? 'aborted')));
}

/**
 * The trading cycle in one call: analyse, then settle (tests and simple callers). Workers call the two
 * halves apart, storing the analysis in between, so a retry never analyses the same job twice.
 */
export async function runTradingCycle(input: CycleJobData, ctx: CycleContext, deps: CycleDeps = {}): Promise<CycleResult> {
  const analysis = await analyseTradingCycle(input, ctx, deps);
  return settleTradingCycle(analysis, input, { redis: ctx.redis, config: ctx.config, jobId: ctx.jobId });
}

/**
 * The analysis half: validate the job, fetch market data once (point in time: as of the close of the
 * job's date), analyse with the chosen engine (quant by default, the multi-agent LLM pipeline when
 * asked and configured). It fills nothing: the result's `fill` is null until the settle half runs.
 */
export async function analyseTradingCycle(input: CycleJobData, ctx: CycleContext, deps: CycleDeps = {}): Promise<CycleResult> {
  const job = validJob(input);
  try {
    return await cycle(job, ctx, deps);
  } catch (err) {
    // Whatever an aborted fetch or model call threw, the cause is the abort: report it as such.
    if (ctx.signal.aborted && !(err instanceof CycleAbortedError)) checkAborted(ctx.signal);
    throw err;
  }
}

function validJob(input: CycleJobData): CycleJobData {
  const parsed = cycleJobDataSchema.safeParse(input);
  if (!parsed.success) {
    throw new PermanentCycleError(`invalid cycle job: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(job)'} ${i.message}`).join('; ')}`);
  }
  if (!parsed.data.dry_run) {
    throw new PermanentCycleError('live trading is not available: no broker adapter is configured (orders would need one); run with dry_run: true for paper trading');
  }
  return parsed.data;
}

export interface SettleContext {
  redis: Redis;
  config: Config;
  jobId: string;
}

/** Why a past session's analysis fills nothing: its price is history, and the live ledger lives now. */
export const PAST_DATE_NOTE = 'analysis of a past session: the live paper portfolio is not filled and the live scorecard does not count it';

/**
 * The New York day an analysis ran on. An analysis of that day's session is a live one; settling it
 * later (a retry or redelivery after midnight, an approval the next morning) does not make it history.
 */
const ranOn = (analysis: CycleResult) => nyDate(new Date(analysis.started_at));

/**
 * The settle half: the side effects of a stored analysis, each at most once per job id (so a retry
 * after a storage fault completes only what is missing): the paper fill and the scorecard entry.
 * Only an analysis of the session of the day it ran touches the live ledger and scorecard, whenever it
 * is settled (the clock at settle time plays no part, so a re-run after midnight keeps its fill and
 * its entry under the analysis's date); a past date says why not.
 */
export async function settleTradingCycle(analysis: CycleResult, input: CycleJobData, ctx: SettleContext): Promise<CycleResult> {
  const job = validJob(input);
  const prefix = ctx.config.QUEUE_PREFIX;
  // A replay's decisions fill that replay's own ledger, in session order (the replay room does it).
  if (job.replay) return { ...analysis, fill: null, fill_note: `replay ${job.replay.id}: filled in the replay's own ledger, not the live paper portfolio or scorecard` };
  const day = ranOn(analysis);
  if (analysis.date < day) return { ...analysis, fill: null, fill_note: `${PAST_DATE_NOTE} (${analysis.date}; analysed on ${day})` };
  if (analysis.price === null) return { ...analysis, fill: null, fill_note: 'no price: nothing to fill' };
  const fill = await applyDecision(ctx.redis, prefix, {
    agent: job.agent,
    jobId: ctx.jobId,
    ticker: job.ticker,
    decision: analysis.decision,
    price: analysis.price,
    settings: job.profile.portfolio,
    at: new Date(analysis.finished_at),
  });
  await recordDecision(ctx.redis, prefix, {
    job_id: ctx.jobId,
    agent: job.agent,
    ticker: job.ticker,
    date: analysis.date,
    decision: analysis.decision,
    rating: analysis.rating,
    confidence: analysis.confidence,
    engine: analysis.engine,
    data_source: analysis.data_source,
    price: analysis.price,
    // Forward returns count from the session of the price the decision saw, which is not always its date.
    ...(analysis.as_of ? { price_date: nyDate(new Date(analysis.as_of)) } : {}),
    models: analysis.models,
    // What the decision cost: the whole job, a retried cycle's earlier attempts included.
    cost_usd: jobSpend(analysis).cost_usd,
    ...(jobSpend(analysis).cost_unknown ? { cost_unknown: true } : {}),
    cycle_ms: Date.parse(analysis.finished_at) - Date.parse(analysis.started_at),
    at: analysis.finished_at,
  });
  return { ...analysis, fill, fill_note: fill ? undefined : analysis.decision === 'HOLD' ? 'HOLD: nothing to trade' : `${analysis.decision}: no trade needed at the target position` };
}

async function cycle(job: CycleJobData, ctx: CycleContext, deps: CycleDeps): Promise<CycleResult> {
  const { signal, config } = ctx;
  const clock = () => ctx.now?.() ?? new Date();
  checkAborted(signal);
  const started = clock();
  const today = nyDate(started);
  const date = job.date ?? today;
  if (date > today) throw new PermanentCycleError(`date ${date} is in the future (today is ${today} in New York)`);

  await ctx.reportProgress('fetching data', 5);
  const provider =
    deps.provider ??
    createMarketDataProvider(config, ctx.logger, {
      redis: ctx.redis,
      now: ctx.now,
      fetch: deps.fetch,
      acquireCallSlot: ctx.acquireCallSlot ? () => ctx.acquireCallSlot!('data') : undefined,
    });
  const { snapshot, price } = await buildMarketSnapshot(provider, { ticker: job.ticker, date, live: date === today && !job.replay, asOf: job.replay?.as_of ? new Date(job.replay.as_of) : undefined, now: clock, signal, logger: ctx.logger });
  checkAborted(signal);

  const notes: string[] = [];
  if (snapshot.data_source === 'simulated' && config.MARKET_DATA !== 'simulated') {
    notes.push('Market data was SIMULATED: the real source was unavailable.');
    await incrementCounter(ctx.redis, productKeys(config.QUEUE_PREFIX), 'data_fallback_total', { from: config.MARKET_DATA, to: 'simulated' });
  }
  if (snapshot.unavailable.length > 0) notes.push(`Unavailable as of ${date}: ${snapshot.unavailable.join(', ')}.`);
  let engine = job.options.engine ?? job.profile.engine;
  if (engine === 'llm' && !config.OPENAI_API_KEY && !config.OPENAI_BASE_URL) {
    notes.push('The llm engine was requested but no OPENAI_API_KEY or OPENAI_BASE_URL is configured: the quant engine decided instead.');
    engine = 'quant';
  }
  const engineInput: EngineInput = { agent: job.agent, snapshot, profile: job.profile, options: job.options, liveAccount: date === today && !job.replay };
  const outcome = engine === 'llm' ? await llm(engineInput, ctx, deps) : await quant(snapshot, ctx);
  checkAborted(signal);

  await ctx.reportProgress('decision', 95);
  const finished = clock();
  // Earlier decisions on this ticker get their forward returns from the bars fetched anyway (live
  // sessions only: a past date's bars end before the decisions waiting to be scored).
  // The pass is idempotent and runs again with the next cycle, so a Redis refusing writes only delays it.
  if (date === today && !job.replay) {
    await scoreTickerFromBars(ctx.redis, config.QUEUE_PREFIX, job.ticker, { daily: snapshot.daily, source: snapshot.data_source }, finished).catch((err: Error) =>
      ctx.logger.warn({ err: err.message }, 'scorecard pass deferred: Redis refused it'),
    );
  }
  await ctx.reportProgress('decision', 100);
  return {
    ticker: job.ticker,
    date,
    agent: job.agent,
    decision: outcome.decision,
    rating: outcome.rating,
    confidence: outcome.confidence,
    price,
    reports: { ...outcome.reports, final: [outcome.reports.final, ...notes].filter(Boolean).join('\n\n') },
    indicators: snapshot.indicators,
    data_source: snapshot.data_source,
    engine,
    models: outcome.models,
    usage: outcome.usage,
    ...(outcome.job_usage ? { job_usage: outcome.job_usage } : {}),
    started_at: started.toISOString(),
    finished_at: finished.toISOString(),
    dry_run: job.dry_run,
    as_of: snapshot.as_of,
    fill: null,
    fill_note: 'not settled yet',
    ...(outcome.calls ? { calls: outcome.calls, role_reports: outcome.role_reports, lessons_used: outcome.lessons_used } : {}),
    bars: snapshot.daily.slice(-RESULT_CHART_BARS),
  };
}

/** The LLM engine lives in its own module, loaded only by cycles that use it. */
async function llm(input: EngineInput, ctx: CycleContext, deps: CycleDeps): Promise<AnalysisOutcome> {
  const { runLlmAnalysis } = await import('./llm/index.ts');
  return runLlmAnalysis(input, ctx, { fetch: deps.fetch });
}

/** The quant engine is instant; its stages are reported so progress looks the same for every engine. */
async function quant(snapshot: MarketSnapshot, ctx: CycleContext): Promise<AnalysisOutcome> {
  await ctx.reportProgress('analysts', 30);
  const outcome = runQuantAnalysis(snapshot);
  for (const [stage, percent] of [['debate', 50], ['trader', 70], ['risk', 85]] as const) {
    checkAborted(ctx.signal);
    await ctx.reportProgress(stage, percent);
  }
  return outcome;
}

import { nyDate } from '../calendar/index.ts';
import { CycleAbortedError, cycleJobDataSchema, PermanentCycleError, type CycleJobData, type CycleResult } from '../core/index.ts';
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
 * The trading cycle: validate the job, fetch market data once, analyse with the chosen engine (quant by
 * default, the multi-agent LLM pipeline when asked and configured), fill the paper portfolio (dry run,
 * once per job id) and record the decision for the scorecard. Safe to run again for the same job id:
 * the fill and the scorecard entry happen once.
 */
export async function runTradingCycle(input: CycleJobData, ctx: CycleContext, deps: CycleDeps = {}): Promise<CycleResult> {
  const parsed = cycleJobDataSchema.safeParse(input);
  if (!parsed.success) {
    throw new PermanentCycleError(`invalid cycle job: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(job)'} ${i.message}`).join('; ')}`);
  }
  const job = parsed.data;
  if (!job.dry_run) {
    throw new PermanentCycleError('live trading is not available: no broker adapter is configured (orders would need one); run with dry_run: true for paper trading');
  }
  try {
    return await cycle(job, ctx, deps);
  } catch (err) {
    // Whatever an aborted fetch or model call threw, the cause is the abort: report it as such.
    if (ctx.signal.aborted && !(err instanceof CycleAbortedError)) checkAborted(ctx.signal);
    throw err;
  }
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
  const { snapshot, price } = await buildMarketSnapshot(provider, { ticker: job.ticker, date, live: date === today && !job.replay, signal, logger: ctx.logger });
  checkAborted(signal);

  const notes: string[] = [];
  if (snapshot.data_source === 'simulated' && config.MARKET_DATA !== 'simulated') notes.push('Market data was SIMULATED: the real source was unavailable.');
  let engine = job.options.engine ?? job.profile.engine;
  if (engine === 'llm' && !config.OPENAI_API_KEY && !config.OPENAI_BASE_URL) {
    notes.push('The llm engine was requested but no OPENAI_API_KEY or OPENAI_BASE_URL is configured: the quant engine decided instead.');
    engine = 'quant';
  }
  const engineInput: EngineInput = { agent: job.agent, snapshot, profile: job.profile, options: job.options };
  const outcome = engine === 'llm' ? await llm(engineInput, ctx) : await quant(snapshot, ctx);
  checkAborted(signal);

  await ctx.reportProgress('decision', 95);
  const prefix = config.QUEUE_PREFIX;
  // A replay's decision is filled into that replay's own ledger, in session order, by the replay room.
  if (job.replay) notes.push(`Replay ${job.replay.id}: filled in the replay's own ledger, not the live paper portfolio or scorecard.`);
  const fill = job.replay ? null : await applyDecision(ctx.redis, prefix, { agent: job.agent, jobId: ctx.jobId, ticker: job.ticker, decision: outcome.decision, price, settings: job.profile.portfolio, at: started });
  const finished = clock();
  if (!job.replay) await recordDecision(ctx.redis, prefix, {
    job_id: ctx.jobId,
    agent: job.agent,
    ticker: job.ticker,
    date,
    decision: outcome.decision,
    rating: outcome.rating,
    confidence: outcome.confidence,
    engine,
    data_source: snapshot.data_source,
    price,
    models: outcome.models,
    cost_usd: outcome.usage.cost_usd,
    cycle_ms: finished.getTime() - started.getTime(),
    at: finished.toISOString(),
  });
  // Earlier decisions on this ticker get their forward returns from the bars fetched anyway.
  if (!job.replay) await scoreTickerFromBars(ctx.redis, prefix, job.ticker, { daily: snapshot.daily, source: snapshot.data_source }, finished);
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
    started_at: started.toISOString(),
    finished_at: finished.toISOString(),
    dry_run: job.dry_run,
    fill,
  };
}

/** The LLM engine lives in its own module, loaded only by cycles that use it. */
async function llm(input: EngineInput, ctx: CycleContext): Promise<AnalysisOutcome> {
  const { runLlmAnalysis } = await import('./llm/index.ts');
  return runLlmAnalysis(input, ctx);
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

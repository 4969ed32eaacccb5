import { DateTime } from 'luxon';
import { CycleAbortedError, PermanentCycleError, productKeys, type CycleJobData, type CycleResult } from '../core/index.ts';
import type { AnalysisOutcome, MarketSnapshot } from './analysis-types.ts';
import type { CycleContext } from './cycle-context.ts';
import { UnknownTickerError, type MarketDataProvider } from './data/market-data-provider.ts';
import { createMarketDataProvider } from './data/provider-selection.ts';
import { computeIndicators } from './indicators.ts';
import { applyDecision } from './portfolio/paper-ledger.ts';
import { runQuantAnalysis } from './quant/quant-engine.ts';
import { recordDecision } from './scorecard/decision-log.ts';
import { scoreTickerFromBars } from './scorecard/forward-returns.ts';

const DAILY_LOOKBACK = 260; // enough for SMA200 plus a margin

export interface CycleDeps {
  provider?: MarketDataProvider;
}

function checkAborted(signal: AbortSignal): void {
  if (signal.aborted) throw new CycleAbortedError(String(signal.reason ?? 'aborted'));
}

/**
 * The trading cycle: fetch market data once, analyse with the profile's engine (quant by default, the
 * multi-agent LLM pipeline when configured), decide, fill the paper portfolio (dry run) and record the
 * decision for the scorecard.
 */
export async function runTradingCycle(job: CycleJobData, ctx: CycleContext, deps: CycleDeps = {}): Promise<CycleResult> {
  if (!job.dry_run) {
    throw new PermanentCycleError('live trading is not available: no broker adapter is configured; set dry_run: true (paper trading)');
  }
  const now = ctx.now?.() ?? new Date();
  const started = now;
  const today = DateTime.fromJSDate(now, { zone: 'America/New_York' }).toISODate()!;
  const date = job.date ?? today;
  const keys = productKeys(ctx.config.QUEUE_PREFIX);
  const provider =
    deps.provider ??
    createMarketDataProvider(ctx.config, ctx.logger, { redis: ctx.redis, now: ctx.now, acquireCallSlot: ctx.acquireCallSlot ? () => ctx.acquireCallSlot!('data') : undefined });
  void keys;
  const { signal } = ctx;

  await ctx.reportProgress('fetching data', 5);
  let daily;
  try {
    daily = await provider.getDailyBars(job.ticker, { to: date, lookbackDays: DAILY_LOOKBACK, signal });
  } catch (err) {
    if (err instanceof UnknownTickerError) throw new PermanentCycleError(err.message);
    throw err;
  }
  if (daily.length === 0) throw new PermanentCycleError(`no price history for ${job.ticker} up to ${date}`);
  checkAborted(signal);
  const live = date === today;
  const optional = async <T>(load: () => Promise<T | null>): Promise<T | null> => {
    try {
      return await load();
    } catch (err) {
      if (signal.aborted) throw err;
      ctx.logger.warn({ err: (err as Error).message }, 'optional market data unavailable');
      return null;
    }
  };
  const [intraday, quote, fundamentals, news] = await Promise.all([
    live ? optional(() => provider.getIntradayBars(job.ticker, { date, signal })) : Promise.resolve(null),
    live ? optional(() => provider.getQuote(job.ticker, { signal })) : Promise.resolve(null),
    optional(() => provider.getFundamentals(job.ticker, { signal })),
    optional(() => provider.getNews(job.ticker, { signal })),
  ]);
  checkAborted(signal);
  const snapshot: MarketSnapshot = {
    ticker: job.ticker,
    date,
    data_source: provider.name,
    daily,
    intraday,
    quote,
    fundamentals,
    news,
    indicators: computeIndicators(daily),
  };
  const price = quote?.price ?? intraday?.at(-1)?.c ?? daily.at(-1)!.c;

  const engine = job.options.engine ?? job.profile.engine;
  let outcome: AnalysisOutcome;
  let note = '';
  if (engine === 'llm' && !ctx.config.OPENAI_API_KEY && !ctx.config.OPENAI_BASE_URL) {
    note = ' (llm engine requested but no OPENAI_API_KEY or OPENAI_BASE_URL is configured: quant engine used)';
    outcome = await quant(snapshot, ctx);
  } else if (engine === 'llm') {
    const { runLlmAnalysis } = await import('./llm/index.ts');
    outcome = await runLlmAnalysis({ agent: job.agent, snapshot, profile: job.profile, options: job.options }, ctx);
  } else {
    outcome = await quant(snapshot, ctx);
  }
  checkAborted(signal);

  await ctx.reportProgress('decision', 95);
  const fill = await applyDecision(ctx.redis, ctx.config.QUEUE_PREFIX, {
    agent: job.agent,
    jobId: ctx.jobId,
    ticker: job.ticker,
    decision: outcome.decision,
    price,
    settings: job.profile.portfolio,
    at: now,
  });
  const finished = ctx.now?.() ?? new Date();
  await recordDecision(ctx.redis, ctx.config.QUEUE_PREFIX, {
    job_id: ctx.jobId,
    agent: job.agent,
    ticker: job.ticker,
    date,
    decision: outcome.decision,
    rating: outcome.rating,
    confidence: outcome.confidence,
    engine: note ? 'quant' : engine,
    data_source: provider.name,
    price,
    models: outcome.models,
    cost_usd: outcome.usage.cost_usd,
    cycle_ms: finished.getTime() - started.getTime(),
    at: finished.toISOString(),
  });
  await scoreTickerFromBars(ctx.redis, ctx.config.QUEUE_PREFIX, job.ticker, { daily, source: provider.name }, finished);
  await ctx.reportProgress('decision', 100);
  return {
    ticker: job.ticker,
    date,
    agent: job.agent,
    decision: outcome.decision,
    rating: outcome.rating,
    confidence: outcome.confidence,
    price,
    reports: { ...outcome.reports, final: outcome.reports.final + note },
    indicators: snapshot.indicators,
    data_source: snapshot.data_source,
    engine: note ? 'quant' : engine,
    models: outcome.models,
    usage: outcome.usage,
    started_at: started.toISOString(),
    finished_at: finished.toISOString(),
    dry_run: job.dry_run,
    fill,
  };
}

/** The quant engine is instant; its stages are reported so progress looks the same for every engine. */
async function quant(snapshot: MarketSnapshot, ctx: CycleContext): Promise<AnalysisOutcome> {
  await ctx.reportProgress('analysts', 30);
  const outcome = runQuantAnalysis(snapshot);
  await ctx.reportProgress('debate', 50);
  await ctx.reportProgress('trader', 70);
  await ctx.reportProgress('risk', 85);
  return outcome;
}

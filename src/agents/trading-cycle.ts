import { DateTime } from 'luxon';
import { PermanentCycleError, ZERO_USAGE, type CycleJobData, type CycleResult } from '../core/index.ts';
import type { CycleContext } from './cycle-context.ts';

/**
 * First version of the trading cycle: a deterministic SMA(10/30) crossover over an offline,
 * seeded price series. Replaced by the full multi-agent cycle.
 */
export async function runTradingCycle(job: CycleJobData, ctx: CycleContext): Promise<CycleResult> {
  if (!job.dry_run) throw new PermanentCycleError('live trading is not available: no broker adapter is configured (set dry_run: true)');
  const started = ctx.now?.() ?? new Date();
  await ctx.reportProgress('fetching data', 10);
  const closes = seededCloses(job.ticker, 120);
  await ctx.reportProgress('analysts', 50);
  const sma = (n: number) => closes.slice(-n).reduce((a, b) => a + b, 0) / n;
  const fast = sma(10);
  const slow = sma(30);
  const spread = (fast - slow) / slow;
  const decision = spread > 0.01 ? 'BUY' : spread < -0.01 ? 'SELL' : 'HOLD';
  await ctx.reportProgress('decision', 100);
  const price = closes.at(-1) ?? null;
  const text = `SMA10 ${fast.toFixed(2)} vs SMA30 ${slow.toFixed(2)} (${(spread * 100).toFixed(2)}%) → ${decision}`;
  return {
    ticker: job.ticker,
    date: job.date ?? DateTime.fromJSDate(started, { zone: 'America/New_York' }).toISODate()!,
    agent: job.agent,
    decision,
    rating: decision === 'BUY' ? 'Buy' : decision === 'SELL' ? 'Sell' : 'Hold',
    confidence: Math.min(1, Math.abs(spread) * 10),
    price,
    reports: { market: text, fundamentals: '', news: '', sentiment: '', debate: '', trader: '', risk: '', final: text },
    indicators: { sma10: fast, sma30: slow },
    data_source: 'simulated',
    engine: 'quant',
    models: [],
    usage: ZERO_USAGE,
    started_at: started.toISOString(),
    finished_at: (ctx.now?.() ?? new Date()).toISOString(),
    dry_run: job.dry_run,
    fill: null,
  };
}

function seededCloses(ticker: string, n: number): number[] {
  let seed = [...ticker].reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7);
  const rand = () => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32);
  const out: number[] = [];
  let p = 100;
  for (let i = 0; i < n; i++) out.push((p *= 1 + (rand() - 0.5) * 0.03));
  return out;
}

import { ZERO_USAGE, type CycleJobData, type CycleResult } from '../src/core/index.ts';
import type { CycleContext } from '../src/agents/index.ts';

/** The benchmark's cycle: returns a valid result at once, so only the orchestration is measured. */
export async function runCycle(job: CycleJobData, ctx: CycleContext): Promise<CycleResult> {
  const now = new Date().toISOString();
  const startedMs = performance.timeOrigin + performance.now();
  if (process.env.BENCH_REPLY_KEY) await ctx.redis.rpush(process.env.BENCH_REPLY_KEY, `${ctx.jobId} ${startedMs}`);
  return {
    ticker: job.ticker, date: job.date ?? now.slice(0, 10), agent: job.agent, decision: 'HOLD', rating: 'Hold', confidence: 0.5, price: 100,
    reports: { market: '', fundamentals: '', news: '', sentiment: '', debate: '', trader: '', risk: '', final: 'noop' },
    // Epoch milliseconds with a fraction, comparable across processes: when the cycle body started.
    indicators: { started_ms: startedMs }, data_source: 'bench', engine: 'quant', models: [], usage: ZERO_USAGE, started_at: now, finished_at: now, dry_run: true, fill: null,
  };
}

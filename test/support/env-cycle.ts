import { ZERO_USAGE, type CycleJobData, type CycleResult } from '../../src/core/index.ts';
import type { CycleContext } from '../../src/agents/index.ts';

/**
 * A cycle module (CYCLE_MODULE) that reports which environment variables its process was given.
 * SLEEPn waits (until aborted); UNPLUG closes its IPC channel and hangs.
 */
export async function runCycle(job: CycleJobData, ctx: CycleContext): Promise<CycleResult> {
  if (job.ticker === 'UNPLUG') {
    // A child whose IPC channel closes while it lives on: every later send from the worker hits a closed channel.
    process.removeAllListeners('disconnect');
    process.disconnect();
    await new Promise(() => setInterval(() => {}, 1000));
  }
  if (job.ticker.startsWith('SLEEP')) {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 5_000);
      ctx.signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
    });
  }
  const text = JSON.stringify(process.env);
  const now = new Date().toISOString();
  return {
    ticker: job.ticker,
    date: job.date ?? '2026-01-02',
    agent: job.agent,
    decision: 'HOLD',
    rating: 'Hold',
    confidence: 0.5,
    price: 100,
    reports: { market: text, fundamentals: '', news: '', sentiment: '', debate: '', trader: '', risk: '', final: text },
    indicators: { pid: process.pid },
    data_source: 'test',
    engine: 'quant',
    models: [],
    usage: ZERO_USAGE,
    started_at: now,
    finished_at: now,
    dry_run: job.dry_run,
    fill: null,
  };
}

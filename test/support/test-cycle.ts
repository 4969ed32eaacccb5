import { CycleAbortedError, PermanentCycleError, ZERO_USAGE, type CycleJobData, type CycleResult } from '../../src/core/index.ts';
import type { CycleContext } from '../../src/agents/index.ts';

/**
 * A cycle module for worker tests (loaded through CYCLE_MODULE): its behaviour is chosen by the
 * ticker, so a test can make a cycle sleep, hang, crash or fail without touching product code.
 *   SLEEPn  sleep n×100 ms (honours the signal)      HANG   ignore the signal forever
 *   FLAKY   fail attempts 1–2, succeed on 3          PERM   fail permanently
 *   FAILn   fail attempts 1–n, succeed after
 *   CRASH   exit the process                          other  return at once
 */
export async function runCycle(job: CycleJobData, ctx: CycleContext): Promise<CycleResult> {
  const started = Date.now();
  const t = job.ticker;
  await ctx.reportProgress('fetching data', 10);
  if (t === 'HANG') await new Promise(() => setInterval(() => {}, 1000));
  if (t === 'CRASH') process.exit(1);
  if (t === 'PERM') throw new PermanentCycleError('unknown ticker PERM');
  if (t === 'FLAKY' && ctx.attempt < 3) throw new Error(`transient failure on attempt ${ctx.attempt}`);
  const failing = /^FAIL(\d+)$/.exec(t);
  if (failing && ctx.attempt <= Number(failing[1])) throw new Error(`transient failure on attempt ${ctx.attempt}`);
  const sleep = /^SLEEP(\d+)$/.exec(t);
  if (sleep) {
    await new Promise<void>((resolve, reject) => {
      if (ctx.signal.aborted) return reject(new CycleAbortedError(String(ctx.signal.reason)));
      const timer = setTimeout(resolve, Number(sleep[1]) * 100);
      ctx.signal.addEventListener('abort', () => (clearTimeout(timer), reject(new CycleAbortedError(String(ctx.signal.reason)))), { once: true });
    });
  }
  await ctx.reportProgress('decision', 100);
  const text = `test cycle for ${t}`;
  return {
    ticker: t,
    date: job.date ?? '2026-01-02',
    agent: job.agent,
    decision: 'HOLD',
    rating: 'Hold',
    confidence: 0.5,
    price: 100,
    reports: { market: text, fundamentals: text, news: text, sentiment: text, debate: text, trader: text, risk: text, final: text },
    indicators: { pid: process.pid, started_at: started, finished_at: Date.now(), attempt: ctx.attempt },
    data_source: 'test',
    engine: 'quant',
    models: [],
    usage: ZERO_USAGE,
    started_at: new Date(started).toISOString(),
    finished_at: new Date().toISOString(),
    dry_run: job.dry_run,
    fill: null,
  };
}

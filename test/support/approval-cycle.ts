import { ZERO_USAGE, type CycleJobData, type CycleResult } from '../../src/core/index.ts';
import { nyDate } from '../../src/calendar/index.ts';
import type { CycleContext } from '../../src/agents/index.ts';

/**
 * A cycle module (CYCLE_MODULE) for approval tests: a decision chosen by the ticker (BUY… buys, SELL…
 * sells, else HOLD) at price 100 today, settled by the product's real settle step (paper ledger, scorecard).
 */
export { settleTradingCycle as settleCycle } from '../../src/agents/index.ts';

export async function runCycle(job: CycleJobData, ctx: CycleContext): Promise<CycleResult> {
  const now = new Date();
  await ctx.reportProgress('decision', 100);
  const decision = job.ticker.startsWith('BUY') ? 'BUY' : job.ticker.startsWith('SELL') ? 'SELL' : 'HOLD';
  const text = `approval test cycle for ${job.ticker}`;
  return {
    ticker: job.ticker,
    date: nyDate(now),
    agent: job.agent,
    decision,
    rating: decision === 'BUY' ? 'Buy' : decision === 'SELL' ? 'Sell' : 'Hold',
    confidence: 0.7,
    price: 100,
    reports: { market: text, fundamentals: text, news: text, sentiment: text, debate: text, trader: text, risk: text, final: text },
    indicators: {},
    data_source: 'test',
    engine: 'quant',
    models: [],
    usage: ZERO_USAGE,
    started_at: now.toISOString(),
    finished_at: now.toISOString(),
    dry_run: job.dry_run,
    fill: null,
  };
}

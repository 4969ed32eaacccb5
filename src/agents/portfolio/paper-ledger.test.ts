import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { deletePrefix, TEST_REDIS_URL, uniquePrefix } from '../../../test/support/redis-test-env.ts';
import { applyDecision, getPortfolio, listPortfolioAgents } from './paper-ledger.ts';

const prefix = uniquePrefix('ledger');
const redis = new Redis(TEST_REDIS_URL);
afterAll(async () => {
  redis.disconnect();
  await deletePrefix(prefix);
});
const settings = { starting_cash: 100_000, target_percent: 0.1, commission_per_trade: 1, slippage_bps: 10 };
const at = new Date('2026-11-20T15:00:00Z');

describe('paper ledger (real Redis)', () => {
  it('buys to the target percent with slippage and fees, sells out with realized P&L, reconciling to the cent', async () => {
    const buy = await applyDecision(redis, prefix, { agent: 'desk', jobId: 'j1', ticker: 'SPY', decision: 'BUY', price: 500, settings, at });
    // 10 % of 100 000 at 500.50 → 19 shares (19 × 500.50 = 9 509.50) + 1 fee.
    expect(buy).toEqual({ side: 'BUY', quantity: 19, price: 500.5, fees: 1, cash_after: 90_489.5 });
    // A second BUY at the target changes nothing.
    expect(await applyDecision(redis, prefix, { agent: 'desk', jobId: 'j2', ticker: 'SPY', decision: 'BUY', price: 500, settings, at })).toBeNull();
    const hold = await applyDecision(redis, prefix, { agent: 'desk', jobId: 'j3', ticker: 'SPY', decision: 'HOLD', price: 520, settings, at });
    expect(hold).toBeNull();
    let p = (await getPortfolio(redis, prefix, 'desk'))!;
    expect(p.positions[0]).toMatchObject({ ticker: 'SPY', quantity: 19, last_price: 520, market_value: 9_880 });
    expect(p.equity).toBeCloseTo(90_489.5 + 9_880, 2);
    expect(p.unrealized_pnl).toBeCloseTo(9_880 - 9_510.5, 2);
    const sell = await applyDecision(redis, prefix, { agent: 'desk', jobId: 'j4', ticker: 'SPY', decision: 'SELL', price: 520, settings, at });
    expect(sell).toEqual({ side: 'SELL', quantity: 19, price: 519.48, fees: 1, cash_after: 100_358.62 });
    p = (await getPortfolio(redis, prefix, 'desk'))!;
    expect(p.positions).toEqual([]);
    expect(p.cash).toBe(100_358.62);
    expect(p.realized_pnl).toBeCloseTo(358.62, 2); // 19 × 519.48 − 1 − 9 510.50 cost basis
    expect(p.equity).toBe(100_358.62);
    expect(p.total_pnl).toBeCloseTo(p.realized_pnl + p.unrealized_pnl, 2);
    expect(p.trades.map((t) => t.side)).toEqual(['SELL', 'BUY']);
    expect(p.equity_curve).toHaveLength(4);
    expect(await listPortfolioAgents(redis, prefix)).toContain('desk');
  });

  it('fills at most once per job id, even when the same job runs twice at the same time', async () => {
    const args = { agent: 'dup', jobId: 'same-job', ticker: 'TSLA', decision: 'BUY' as const, price: 250, settings, at };
    const fills = await Promise.all([applyDecision(redis, prefix, args), applyDecision(redis, prefix, args), applyDecision(redis, prefix, args)]);
    expect(fills[0]).toEqual(fills[1]);
    expect(fills[1]).toEqual(fills[2]);
    const p = (await getPortfolio(redis, prefix, 'dup'))!;
    expect(p.trades).toHaveLength(1);
    expect(p.positions[0]!.quantity).toBe(fills[0]!.quantity);
  });

  it('keeps cash right when cycles of one agent on different tickers fill concurrently', async () => {
    const tickers = ['A', 'B', 'C', 'D', 'E'];
    await Promise.all(tickers.map((t, i) => applyDecision(redis, prefix, { agent: 'multi', jobId: `m${i}`, ticker: t, decision: 'BUY', price: 100, settings: { ...settings, slippage_bps: 0 }, at })));
    const p = (await getPortfolio(redis, prefix, 'multi'))!;
    const spent = p.trades.reduce((s, t) => s + t.quantity * t.price + t.fees, 0);
    expect(p.cash).toBeCloseTo(100_000 - spent, 2);
    expect(p.trades).toHaveLength(5);
  });
});

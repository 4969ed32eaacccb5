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
    expect(p.positions[0]!.avg_price).toBe(500.5526); // 9 510.50 / 19, fees included
    expect(p.equity).toBe(100_369.5);
    expect(p.unrealized_pnl).toBe(369.5);
    const sell = await applyDecision(redis, prefix, { agent: 'desk', jobId: 'j4', ticker: 'SPY', decision: 'SELL', price: 520, settings, at });
    expect(sell).toEqual({ side: 'SELL', quantity: 19, price: 519.48, fees: 1, cash_after: 100_358.62 });
    p = (await getPortfolio(redis, prefix, 'desk'))!;
    expect(p.positions).toEqual([]);
    expect(p.cash).toBe(100_358.62);
    expect(p.realized_pnl).toBe(358.62); // 19 × 519.48 − 1 − 9 510.50 cost basis
    expect(p.equity).toBe(100_358.62);
    expect(p.total_pnl).toBe(358.62);
    expect(p.trades.map((t) => t.side)).toEqual(['SELL', 'BUY']);
    expect(p.equity_curve).toHaveLength(4);
    expect(await listPortfolioAgents(redis, prefix)).toContain('desk');
  });

  it('fills at most once per job id, even when the same job runs at the same time in several processes', async () => {
    const args = { agent: 'dup', jobId: 'same-job', ticker: 'TSLA', decision: 'BUY' as const, price: 250, settings, at };
    // One connection per "process": the script, not the connection, makes the fill atomic.
    const conns = Array.from({ length: 5 }, () => new Redis(TEST_REDIS_URL));
    const fills = await Promise.all(conns.map((c) => applyDecision(c, prefix, args)));
    conns.forEach((c) => c.disconnect());
    expect(fills[0]).toMatchObject({ side: 'BUY', quantity: 39 });
    // A later retry (even with another price) gets the original fill back.
    expect(await applyDecision(redis, prefix, { ...args, price: 300 })).toEqual(fills[0]);
    expect(fills[0]).toEqual(fills[1]);
    expect(new Set(fills.map((f) => JSON.stringify(f))).size).toBe(1);
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

  it('reconciles to the cent over a long random run on several tickers: cash + positions × price = equity, P&L sums', async () => {
    let seed = 7;
    const rand = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    const tickers = ['AAA', 'BBB', 'CCC'];
    const prices: Record<string, number> = { AAA: 101.37, BBB: 47.91, CCC: 333.33 };
    const odd = { starting_cash: 25_000, target_percent: 0.3, commission_per_trade: 0.99, slippage_bps: 7 };
    for (let i = 0; i < 60; i++) {
      const t = tickers[i % 3]!;
      prices[t] = Math.round(prices[t]! * (1 + (rand() - 0.5) * 0.08) * 10_000) / 10_000; // 4-decimal prices, as Yahoo sends
      const decision = (['BUY', 'SELL', 'HOLD'] as const)[Math.floor(rand() * 3)]!;
      await applyDecision(redis, prefix, { agent: 'random', jobId: `r${i}`, ticker: t, decision, price: prices[t]!, settings: odd, at: new Date(at.getTime() + i * 60_000) });
    }
    const p = (await getPortfolio(redis, prefix, 'random'))!;
    const c = (n: number) => Math.round(n * 100);
    expect(p.trades.length).toBeGreaterThan(10);
    expect(c(p.cash) + p.positions.reduce((s, x) => s + c(x.market_value), 0)).toBe(c(p.equity));
    for (const x of p.positions) expect(c(x.market_value)).toBe(Math.round(x.quantity * prices[x.ticker]! * 100));
    expect(c(p.realized_pnl) + c(p.unrealized_pnl)).toBe(c(p.total_pnl));
    expect(c(p.equity) - c(p.starting_cash)).toBe(c(p.total_pnl));
    expect(p.trades.reduce((s, t) => s + c(t.realized_pnl), 0)).toBe(c(p.realized_pnl));
    // Cash is the starting cash minus every buy plus every sell, fees included.
    const flows = p.trades.reduce((s, t) => s + (t.side === 'BUY' ? -1 : 1) * t.quantity * c(t.price) - c(t.fees), 0);
    expect(c(p.starting_cash) + flows).toBe(c(p.cash));
    expect(p.trades[0]!.cash_after).toBe(p.cash);
    expect(p.cash).toBeGreaterThanOrEqual(0);
    expect(p.equity_curve.at(-1)!.equity).toBe(p.equity);
    expect(p.equity_curve).toHaveLength(60);
  });

  it('values positions at given mark prices, and never buys more than the cash allows', async () => {
    await applyDecision(redis, prefix, { agent: 'marks', jobId: 'k1', ticker: 'SPY', decision: 'BUY', price: 100, settings: { ...settings, slippage_bps: 0 }, at });
    const marked = (await getPortfolio(redis, prefix, 'marks', { markPrices: { SPY: 110 } }))!;
    expect(marked.positions[0]).toMatchObject({ quantity: 100, last_price: 110, market_value: 11_000, unrealized_pnl: 999 }) // cost 10 000 + 1 fee;
    expect(marked.equity).toBe(89_999 + 11_000);
    const poor = { starting_cash: 150, target_percent: 1, commission_per_trade: 1, slippage_bps: 0 };
    expect(await applyDecision(redis, prefix, { agent: 'poor', jobId: 'p1', ticker: 'BRK.A', decision: 'BUY', price: 700_000, settings: poor, at })).toBeNull();
    expect(await applyDecision(redis, prefix, { agent: 'poor', jobId: 'p2', ticker: 'F', decision: 'BUY', price: 12, settings: poor, at })).toMatchObject({ quantity: 12, cash_after: 5 });
    expect(await applyDecision(redis, prefix, { agent: 'poor', jobId: 'p3', ticker: 'X', decision: 'SELL', price: 12, settings: poor, at })).toBeNull(); // nothing to sell
    await expect(applyDecision(redis, prefix, { agent: 'poor', jobId: 'p4', ticker: 'F', decision: 'BUY', price: Number.NaN, settings: poor, at })).rejects.toThrow(/cannot fill/);
    expect(await getPortfolio(redis, prefix, 'nobody')).toBeNull();
  });
});

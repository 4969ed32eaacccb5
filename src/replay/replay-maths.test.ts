import { describe, expect, it } from 'vitest';
import { MarketCalendar } from '../calendar/index.ts';
import { BUILTIN_AGENTS, type Decision } from '../core/index.ts';
import { comparePair } from './replay-compare.ts';
import { curveStats, maxDrawdown, sharpeRatio } from './equity-curve.ts';
import { BuyAndHold, ReplayLedger } from './replay-ledger.ts';
import { planSlots, tradingDays } from './replay-plan.ts';
import { forwardStats, percentile, profileReport } from './replay-report.ts';
import { planReplay, ReplayRequestError } from './replay-request.ts';
import { reportCsv, CSV_COLUMNS } from './report-csv.ts';
import type { ReplayCycle } from './replay-types.ts';

const calendar = new MarketCalendar();
const round = (n: number) => Math.round(n * 1e6) / 1e6;
const settings = { starting_cash: 10_000, target_percent: 0.5, commission_per_trade: 1, slippage_bps: 0 };

function cycle(i: number, profile: string, date: string, decision: Decision, price: number, extra: Partial<ReplayCycle> = {}): ReplayCycle {
  return { i, profile, ticker: 'SPY', date, as_of: null, status: 'completed', decision, rating: null, confidence: 0.6, price, data_source: 'simulated', cost_usd: 0, tokens: 0, cycle_ms: 10, job_id: `j${i}`, error: null, recorded_at: new Date(1_000 * i).toISOString(), ...extra };
}

describe('replay planning over the NYSE calendar', () => {
  it('counts trading days over a range with holidays', () => {
    // December 2025: 23 weekdays, Christmas (Thu 25th) closed; the 24th is an early close but a trading day.
    const dec = tradingDays(calendar, '2025-12-01', '2025-12-31');
    expect(dec).toHaveLength(22);
    expect(dec).not.toContain('2025-12-25');
    expect(dec).toContain('2025-12-24');
    // Good Friday 2025 (Apr 18) and the national day of mourning (Jan 9) are closed.
    expect(tradingDays(calendar, '2025-04-14', '2025-04-18')).toEqual(['2025-04-14', '2025-04-15', '2025-04-16', '2025-04-17']);
    expect(tradingDays(calendar, '2025-01-06', '2025-01-10')).not.toContain('2025-01-09');
    // 2024 had 252 sessions.
    expect(tradingDays(calendar, '2024-01-01', '2024-12-31')).toHaveLength(252);
  });

  it("plans a schedule's intraday slots, shorter on an early close", () => {
    const slots = planSlots(calendar, { from: '2025-12-23', to: '2025-12-24' }, { every: 30 * 60_000, market_hours: 'regular' }, new Date('2026-01-01T00:00:00Z'));
    const byDay = (d: string) => slots.filter((s) => s.date === d);
    expect(byDay('2025-12-23')).toHaveLength(13); // 09:30 … 15:30
    expect(byDay('2025-12-24')).toHaveLength(7); // 09:30 … 12:30, closes 13:00
    expect(byDay('2025-12-23')[0]!.as_of).toBe('2025-12-23T14:30:00.000Z');
    expect(byDay('2025-12-24').at(-1)!.as_of).toBe('2025-12-24T17:30:00.000Z');
  });

  it('rejects bad requests naming the field', () => {
    const ctx = { calendar, now: new Date('2026-03-02T18:00:00Z'), agents: BUILTIN_AGENTS, schedules: {} };
    const fields = (body: unknown) => {
      try {
        planReplay(body, ctx);
        return [];
      } catch (err) {
        return (err as ReplayRequestError).details.map((d) => d.field);
      }
    };
    const ok = { profiles: ['quant'], tickers: ['SPY'], from: '2026-02-02', to: '2026-02-27' };
    expect(fields(ok)).toEqual([]);
    expect(fields({ ...ok, profiles: ['nope'] })).toEqual(['profiles.0']);
    expect(fields({ ...ok, from: '2026-02-30' })).toEqual(['from']);
    expect(fields({ ...ok, from: '2026-02-20', to: '2026-02-10' })).toEqual(['from']);
    expect(fields({ ...ok, to: '2026-03-09' })).toEqual(['to']);
    expect(fields({ ...ok, from: '2026-02-14', to: '2026-02-16' })).toEqual(['from']); // a weekend and Presidents' Day
    expect(fields({ ...ok, from: '1990-01-01', tickers: Array.from({ length: 20 }, (_, k) => `T${k}`) })).toEqual(['to']);
    expect(fields({ ...ok, schedule: 'missing' })).toEqual(['schedule']);
    expect(fields({ ...ok, colour: 'red' })).toEqual(['colour']);
    // Today's session counts only once it has closed.
    expect(planReplay({ ...ok, from: '2026-03-02', to: '2026-03-02' }, { ...ctx, now: new Date('2026-03-02T21:01:00Z') }).slots).toHaveLength(1);
    expect(fields({ ...ok, from: '2026-03-02', to: '2026-03-02' })).toEqual(['from']);
  });
});

describe('replay ledger', () => {
  it('follows the paper ledger rules in cents: target share, commission, slippage, long only', () => {
    const l = new ReplayLedger({ ...settings, slippage_bps: 10 });
    const buy = l.apply({ ticker: 'SPY', date: 'd1', as_of: null, decision: 'BUY', price: 100 })!;
    // 50 % of $10,000 at $100.10 → 49 shares, $4,904.90 + $1.
    expect(buy).toMatchObject({ side: 'BUY', quantity: 49, price: 100.1, fees: 1, cash_after: 5094.1 });
    expect(l.apply({ ticker: 'SPY', date: 'd2', as_of: null, decision: 'BUY', price: 100 })).toBeNull();
    const sell = l.apply({ ticker: 'SPY', date: 'd3', as_of: null, decision: 'SELL', price: 110 })!;
    expect(sell).toMatchObject({ side: 'SELL', quantity: 49, price: 109.89 });
    expect(sell.realized_pnl).toBeCloseTo(49 * 109.89 - 1 - 4905.9, 2);
    expect(l.apply({ ticker: 'SPY', date: 'd4', as_of: null, decision: 'SELL', price: 110 })).toBeNull();
    expect(l.equity()).toBeCloseTo(10_000 + sell.realized_pnl, 2);
  });

  it('buy-and-hold splits the cash equally and only marks', () => {
    const b = new BuyAndHold(settings, ['A', 'B']);
    b.mark('A', 50);
    b.mark('B', 100);
    // At their buy prices (no slippage) the holdings are worth what they cost: only the commissions are gone.
    expect(b.equity()).toBeCloseTo(10_000 - 2, 2);
    b.mark('A', 100);
    expect(b.equity()).toBeCloseTo(10_000 - 2 + 99 * 50, 2); // 99 shares of A doubled
  });
});

describe('curve statistics', () => {
  it('max drawdown, total return and Sharpe', () => {
    expect(maxDrawdown([100, 120, 90, 130, 65])).toBe(0.5);
    expect(sharpeRatio([0.01, 0.01])).toBeNull();
    const r = [0.01, -0.005, 0.02];
    const m = (0.01 - 0.005 + 0.02) / 3;
    const sd = Math.sqrt(r.reduce((a, x) => a + (x - m) ** 2, 0) / 2);
    expect(sharpeRatio(r)).toBeCloseTo((m / sd) * Math.sqrt(252), 3);
    const stats = curveStats(100, [
      { date: 'a', value: 110 },
      { date: 'b', value: 99 },
      { date: 'c', value: 121 },
    ]);
    expect(stats.total_return).toBeCloseTo(0.21, 6);
    expect(stats.max_drawdown).toBeCloseTo(0.1, 6);
    expect(percentile([5, 1, 4, 2, 3], 95)).toBe(5);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20], 95)).toBe(19);
  });
});

describe('report and comparison on crafted decisions', () => {
  const days = ['2026-01-05', '2026-01-06', '2026-01-07', '2026-01-08', '2026-01-09', '2026-01-12', '2026-01-13'];
  const prices = [100, 102, 101, 105, 104, 108, 110];
  const a: Decision[] = ['BUY', 'HOLD', 'SELL', 'BUY', 'HOLD', 'SELL', 'HOLD'];
  const b: Decision[] = ['BUY', 'SELL', 'SELL', 'HOLD', 'HOLD', 'BUY', 'HOLD'];
  const cycles = days.flatMap((d, k) => [
    cycle(2 * k, 'a', d, a[k]!, prices[k]!, { cost_usd: 0.5, tokens: 1000, cycle_ms: 100 * (k + 1) }),
    cycle(2 * k + 1, 'b', d, b[k]!, prices[k]!, { cost_usd: 0.25 }),
  ]);
  const slots = days.map((date) => ({ date, as_of: null }));
  const closeOf = (d: string) => `${d}T21:00:00.000Z`;
  const sessions = { closeOf, between: (from: string, to: string) => tradingDays(calendar, from, to) };

  it('forward returns and hit rate by decision at +1 and +5 sessions', () => {
    const r = profileReport({ profile: 'a', engine: 'llm', models: ['m'], settings, tickers: ['SPY'], slots, cycles, sessions });
    expect(r.rows.map((x) => x.return_1d)).toEqual([0.02, -0.009804, 0.039604, -0.009524, 0.038462, 0.018519, null]);
    expect(r.rows[0]!.return_5d).toBeCloseTo(0.08, 6);
    expect(r.rows[1]!.return_5d).toBeCloseTo(110 / 102 - 1, 6);
    expect(r.rows[2]!.return_5d).toBeNull();
    // +1: BUY d1 (+2 %) hit, SELL d3 (+3.96 %) miss, BUY d4 (−0.95 %) miss, SELL d6 (+1.85 %) miss.
    expect(r.forward['1d']).toMatchObject({ hit_rate: 0.25, scored: 4, count: { BUY: 2, SELL: 2, HOLD: 2 } });
    expect(r.forward['1d'].mean_return.BUY).toBeCloseTo((0.02 - 0.009524) / 2, 6);
    expect(r.forward['5d']).toMatchObject({ hit_rate: 1, scored: 1, count: { BUY: 1, SELL: 0, HOLD: 1 } });
    expect(r.decisions).toEqual({ BUY: 2, SELL: 2, HOLD: 3 });
    expect(r.by_day[0]).toEqual({ date: '2026-01-05', BUY: 1, SELL: 0, HOLD: 0 });
    expect(r.cost_usd).toBeCloseTo(3.5, 6);
    expect(r.tokens).toBe(7000);
    expect(r.cycle_ms).toEqual({ mean: 400, p95: 700 });
    expect(r.equity_curve).toHaveLength(7);
    expect(r.trades).toBe(4);
    // Buy-and-hold: 99 shares at $100 ($1 commission) marked at $110.
    expect(r.equity_curve.at(-1)!.buy_and_hold).toBeCloseTo(10_000 - 1 - 9900 + 99 * 110, 2);
    expect(r.buy_and_hold.total_return).toBeCloseTo((10_000 - 1 + 99 * 10) / 10_000 - 1, 6);
  });

  it('forward returns count from the session of the price a slot decided on, as the live scorecard does', () => {
    // Slots of the 6th to the 8th had no bars of their day (a source's intraday history ends): each decided on
    // the close before. The rest decided on their own day's close.
    const priced = days.map((d, k) => (k >= 1 && k <= 3 ? { price: prices[k - 1]!, price_as_of: closeOf(days[k - 1]!) } : { price: prices[k]!, price_as_of: closeOf(d) }));
    const mixed = days.map((d, k) => cycle(k, 'a', d, 'BUY', priced[k]!.price, { price_as_of: priced[k]!.price_as_of }));
    const r = profileReport({ profile: 'a', engine: 'llm', models: [], settings, tickers: ['SPY'], slots, cycles: mixed, sessions });
    expect(r.rows.map((x) => x.price_date)).toEqual(['2026-01-05', '2026-01-05', '2026-01-06', '2026-01-07', '2026-01-09', '2026-01-12', '2026-01-13']);
    // The replay saw the 8th's close from no slot: a decision priced on the 7th has no +1 return, never the 9th's
    // counted as its next session's.
    expect(r.rows.map((x) => x.return_1d)).toEqual([0.02, 0.02, -0.009804, null, 0.038462, 0.018519, null]);
    expect(r.rows.map((x) => x.return_5d)).toEqual([0.08, 0.08, round(110 / 102 - 1), null, null, null, null]);
  });

  it('the ledger follows session order whatever order cycles finished in', () => {
    const shuffled = [...cycles].reverse();
    const r1 = profileReport({ profile: 'a', engine: 'llm', models: [], settings, tickers: ['SPY'], slots, cycles, sessions });
    const r2 = profileReport({ profile: 'a', engine: 'llm', models: [], settings, tickers: ['SPY'], slots, cycles: shuffled, sessions });
    expect(r2.equity_curve).toEqual(r1.equity_curve);
  });

  it('agreement, the 3×3 confusion matrix and the cost ratio', () => {
    const c = comparePair('a', 'b', cycles);
    expect(c.compared).toBe(7);
    expect(c.agreement_rate).toBeCloseTo(4 / 7, 4);
    expect(c.confusion).toEqual({
      BUY: { BUY: 1, SELL: 0, HOLD: 1 },
      SELL: { BUY: 1, SELL: 1, HOLD: 0 },
      HOLD: { BUY: 0, SELL: 1, HOLD: 2 },
    });
    expect(c.cost_ratio).toBe(2);
    const free = cycles.map((x) => (x.profile === 'b' ? { ...x, cost_usd: 0 } : x));
    expect(comparePair('a', 'b', free).cost_ratio).toBeNull();
    // A failed cycle on one side leaves that point out.
    const holed = cycles.map((x) => (x.i === 1 ? { ...x, status: 'failed' as const, decision: null } : x));
    expect(comparePair('a', 'b', holed).compared).toBe(6);
  });

  it('forwardStats counts only rows with a known return', () => {
    expect(forwardStats([{ decision: 'BUY', ret: null }, { decision: 'SELL', ret: -0.01 }])).toMatchObject({ hit_rate: 1, scored: 1 });
  });

  it('the CSV has its columns and one quoted-as-needed row per cycle', () => {
    const r = profileReport({ profile: 'a', engine: 'llm', models: [], settings, tickers: ['SPY'], slots: [...slots, { date: '2026-01-14', as_of: null }], cycles: [...cycles, cycle(99, 'a', '2026-01-14', 'HOLD', 1, { status: 'failed', decision: null, price: null, error: 'boom, "bad"' })], sessions });
    const csv = reportCsv({ replay_id: 'x', status: 'done', from: '', to: '', schedule_id: null, tickers: ['SPY'], slots: 7, progress: { done: 8, total: 8 }, profiles: [r], comparisons: [], generated_at: '' });
    const lines = csv.trimEnd().split('\r\n');
    expect(lines[0]).toBe(CSV_COLUMNS.join(','));
    expect(lines[0]).toBe('replay_id,profile,date,as_of,price_date,ticker,status,decision,confidence,price,fill_side,fill_quantity,fill_price,fill_fees,cash_after,equity_after,return_1d,return_5d,cost_usd,cost_unknown,tokens,cycle_ms,data_source,job_id,error');
    expect(lines).toHaveLength(1 + 8);
    expect(lines[1]!.split(',').slice(0, 12)).toEqual(['x', 'a', '2026-01-05', '', '2026-01-05', 'SPY', 'completed', 'BUY', '0.6', '100', 'BUY', '50']);
    expect(lines.at(-1)!.endsWith(',"boom, ""bad"""')).toBe(true);
  });
});

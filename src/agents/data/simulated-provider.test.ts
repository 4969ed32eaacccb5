import { describe, expect, it } from 'vitest';
import type { Bar } from '../analysis-types.ts';
import { createSimulatedProvider } from './simulated-provider.ts';

const at = (iso: string) => () => new Date(iso);
const nyDay = (b: Bar) => new Date(b.t).toLocaleDateString('en-CA', { timeZone: 'America/New_York' });

describe('simulated market data', () => {
  // A clock well after the dates asked for: every session is complete.
  const p = createSimulatedProvider({ now: at('2027-01-15T22:00:00Z') });

  it('is deterministic per ticker, differs between tickers, and a date\'s bar does not depend on the range asked', async () => {
    const a = await p.getDailyBars('SPY', { to: '2026-11-20', lookbackDays: 300 });
    const b = await createSimulatedProvider({ now: at('2026-12-01T00:00:00Z') }).getDailyBars('SPY', { to: '2026-11-20', lookbackDays: 300 });
    const c = await p.getDailyBars('TSLA', { to: '2026-11-20', lookbackDays: 300 });
    expect(a).toEqual(b);
    expect(a).toHaveLength(300);
    expect(a.map((x) => x.c)).not.toEqual(c.map((x) => x.c));
    expect(await p.getDailyBars('SPY', { to: '2026-11-20', lookbackDays: 10 })).toEqual(a.slice(-10));
    expect(nyDay(a.at(-1)!)).toBe('2026-11-20');
  });

  it('produces sane OHLCV bars on NYSE sessions only (no weekends, no holidays)', async () => {
    const bars = await p.getDailyBars('AAPL', { to: '2026-12-31', lookbackDays: 300 });
    const days = bars.map(nyDay);
    expect(days).not.toContain('2026-11-26'); // Thanksgiving
    expect(days).not.toContain('2026-12-25');
    expect(days).toContain('2026-11-27');
    for (const bar of bars) {
      expect(bar.h).toBeGreaterThanOrEqual(Math.max(bar.o, bar.c));
      expect(bar.l).toBeLessThanOrEqual(Math.min(bar.o, bar.c));
      expect(bar.v).toBeGreaterThan(0);
      expect([0, 6]).not.toContain(new Date(bar.t).getUTCDay());
    }
    // Returns vary: some up days, some down days, not a straight line.
    const ups = bars.slice(1).filter((b, i) => b.c > bars[i]!.c).length;
    expect(ups).toBeGreaterThan(90);
    expect(ups).toBeLessThan(210);
  });

  it('builds a regular session of 5-minute bars that aggregates exactly to the daily bar', async () => {
    const intraday = (await p.getIntradayBars('AAPL', { date: '2026-11-20' }))!;
    const day = (await p.getDailyBars('AAPL', { to: '2026-11-20', lookbackDays: 1 }))[0]!;
    expect(intraday).toHaveLength(78);
    expect(intraday[0]!.t).toBe('2026-11-20T14:30:00.000Z');
    expect(intraday[0]!.o).toBe(day.o);
    expect(intraday.at(-1)!.c).toBe(day.c);
    expect(Math.max(...intraday.map((b) => b.h))).toBe(day.h);
    expect(Math.min(...intraday.map((b) => b.l))).toBe(day.l);
    expect(intraday.reduce((s, b) => s + b.v, 0)).toBe(day.v);
    // The day after Thanksgiving closes at 13:00; a holiday has no session.
    expect(await p.getIntradayBars('AAPL', { date: '2026-11-27' })).toHaveLength(42);
    expect(await p.getIntradayBars('AAPL', { date: '2026-11-26' })).toEqual([]);
    expect(await p.getFundamentals('AAPL', {})).toBeNull();
    expect(await p.getNews('AAPL', {})).toBeNull();
  });

  it('knows the clock: mid-session the daily bar is the session so far and the quote its last close; nothing from the future', async () => {
    const midday = createSimulatedProvider({ now: at('2026-11-20T17:02:00Z') }); // 12:02 New York
    const intraday = (await midday.getIntradayBars('MSFT', { date: '2026-11-20' }))!;
    expect(intraday).toHaveLength(30); // 09:30 … 11:55 have closed
    const daily = await midday.getDailyBars('MSFT', { to: '2026-11-30', lookbackDays: 5 });
    const today = daily.at(-1)!;
    expect(nyDay(today)).toBe('2026-11-20');
    expect(today.c).toBe(intraday.at(-1)!.c);
    expect(today.v).toBe(intraday.reduce((s, b) => s + b.v, 0));
    expect(await midday.getQuote('MSFT', {})).toEqual({ price: intraday.at(-1)!.c, time: '2026-11-20T17:02:00.000Z' });
    const preOpen = createSimulatedProvider({ now: at('2026-11-20T13:00:00Z') });
    const before = await preOpen.getDailyBars('MSFT', { to: '2026-11-20', lookbackDays: 1 });
    expect(nyDay(before[0]!)).toBe('2026-11-19');
    expect((await preOpen.getQuote('MSFT', {}))!.price).toBe(before[0]!.c);
  });
});

import { describe, expect, it } from 'vitest';
import { createSimulatedProvider } from './simulated-provider.ts';

describe('simulated market data', () => {
  const p = createSimulatedProvider();
  it('is deterministic per ticker and date, and differs between tickers', async () => {
    const a = await p.getDailyBars('SPY', { to: '2026-11-20', lookbackDays: 260 });
    const b = await p.getDailyBars('SPY', { to: '2026-11-20', lookbackDays: 260 });
    const c = await p.getDailyBars('TSLA', { to: '2026-11-20', lookbackDays: 260 });
    expect(a).toEqual(b);
    expect(a).toHaveLength(260);
    expect(a.map((x) => x.c)).not.toEqual(c.map((x) => x.c));
    // A date's bar does not depend on the range asked for.
    const shorter = await p.getDailyBars('SPY', { to: '2026-11-20', lookbackDays: 10 });
    expect(shorter).toEqual(a.slice(-10));
  });

  it('produces sane OHLCV bars on weekdays and a regular-session intraday day', async () => {
    const bars = await p.getDailyBars('AAPL', { to: '2026-11-20', lookbackDays: 100 });
    for (const bar of bars) {
      expect(bar.h).toBeGreaterThanOrEqual(Math.max(bar.o, bar.c) - 0.011);
      expect(bar.l).toBeLessThanOrEqual(Math.min(bar.o, bar.c) + 0.011);
      expect(bar.v).toBeGreaterThan(0);
      expect([0, 6]).not.toContain(new Date(bar.t).getUTCDay());
    }
    const intraday = (await p.getIntradayBars('AAPL', { date: '2026-11-20' }))!;
    expect(intraday).toHaveLength(78);
    expect(intraday[0]!.t).toBe('2026-11-20T14:30:00.000Z');
    expect(await p.getFundamentals('AAPL', {})).toBeNull();
    expect(await p.getNews('AAPL', {})).toBeNull();
  });
});

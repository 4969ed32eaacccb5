import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { buildMarketSnapshot, createSimulatedProvider } from '../../src/agents/index.ts';

const logger = pino({ level: 'silent' });
const signal = new AbortController().signal;
const simulated = createSimulatedProvider({ now: () => new Date('2026-06-01T00:00:00Z') });
const slot = new Date('2025-12-23T15:00:00Z'); // 10:00 New York

describe('an intraday slot sees only what was known at its instant', () => {
  it('builds the day so far from the 5-minute bars closed by the slot', async () => {
    const { snapshot, price } = await buildMarketSnapshot(simulated, { ticker: 'SPY', date: '2025-12-23', live: false, asOf: slot, signal, logger });
    // 09:30 … 09:55: six bars closed by 10:00; the last one opened at 09:55 and its close was struck at 10:00.
    expect(snapshot.intraday).toHaveLength(6);
    expect(snapshot.intraday!.at(-1)!.t).toBe('2025-12-23T14:55:00.000Z');
    expect(snapshot.as_of).toBe('2025-12-23T15:00:00.000Z');
    const full = await simulated.getDailyBars('SPY', { to: '2025-12-23', lookbackDays: 1, signal });
    const today = snapshot.daily.at(-1)!;
    expect(today.t).toBe('2025-12-23T14:30:00.000Z');
    expect(today.c).toBe(price);
    expect(today.c).toBe(snapshot.intraday!.at(-1)!.c);
    expect(today.v).toBeLessThan(full[0]!.v);
  });

  it("never keeps the session's full daily bar when the source has no intraday bars for it", async () => {
    const noIntraday = { ...simulated, name: 'daily-only', getIntradayBars: async () => null };
    const { snapshot, price } = await buildMarketSnapshot(noIntraday, { ticker: 'SPY', date: '2025-12-23', live: false, asOf: slot, signal, logger });
    // The last bar seen is the session before (Dec 22): its close is the price, and intraday is reported unavailable.
    expect(snapshot.daily.at(-1)!.t).toBe('2025-12-22T14:30:00.000Z');
    // Its time is when that close was struck: the 22nd's close (16:00 New York), not the bar's open stamp.
    expect(snapshot.as_of).toBe('2025-12-22T21:00:00.000Z');
    expect(price).toBe(snapshot.daily.at(-1)!.c);
    expect(snapshot.unavailable).toContain('intraday');
    // Without an instant (a session-close cycle) the day's own bar stays.
    const close = await buildMarketSnapshot(noIntraday, { ticker: 'SPY', date: '2025-12-23', live: false, signal, logger });
    expect(close.snapshot.daily.at(-1)!.t).toBe('2025-12-23T14:30:00.000Z');
  });

  it("a 5-minute bar still forming when it was read is as of that read, never its end", async () => {
    // Read at 12:02 New York: the 12:00 bar is still forming (its close so far is the last trade).
    const read = new Date('2025-12-23T17:02:00Z');
    const bars = await simulated.getIntradayBars('SPY', { date: '2025-12-23', interval: '5m', signal });
    const closed = bars!.filter((b) => Date.parse(b.t) + 5 * 60_000 <= Date.parse('2025-12-23T17:00:00Z'));
    const forming = { ...bars!.find((b) => b.t === '2025-12-23T17:00:00.000Z')!, t: '2025-12-23T17:00:00.000Z' };
    const live = { ...simulated, name: 'forming', getIntradayBars: async () => [...closed, forming] };
    const { snapshot, price } = await buildMarketSnapshot(live, { ticker: 'SPY', date: '2025-12-23', live: true, now: () => read, signal, logger });
    expect(price).toBe(forming.c);
    expect(snapshot.as_of).toBe('2025-12-23T17:02:00.000Z');
  });
});

import { DateTime } from 'luxon';
import type { Bar } from '../analysis-types.ts';
import type { MarketDataProvider } from './market-data-provider.ts';

/** mulberry32: a tiny deterministic PRNG, so the same ticker always yields the same history. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function hash(text: string): number {
  let h = 2166136261;
  for (const c of text) h = Math.imul(h ^ c.charCodeAt(0), 16777619);
  return h >>> 0;
}

/** Standard normal from two uniforms (Box–Muller). */
function gaussian(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(rand() || 1e-12)) * Math.cos(2 * Math.PI * rand());
}

const round = (n: number) => Math.round(n * 100) / 100;

/**
 * Deterministic, realistic-looking data for running anywhere without a network: a geometric random
 * walk per ticker with its own drift and volatility, switching regimes every few weeks, volume that
 * rises with volatility, and 5-minute bars for the regular session. Fundamentals and news are not
 * invented: the provider says it has none.
 */
export function createSimulatedProvider(): MarketDataProvider {
  const daily = (ticker: string, to: string, lookbackDays: number): Bar[] => {
    const rand = prng(hash(ticker));
    const start = 20 + rand() * 480;
    const baseDrift = (rand() - 0.45) * 0.0015;
    const baseVol = 0.008 + rand() * 0.022;
    // Walk forward from a fixed origin so a given date always has the same bar, whatever the range asked.
    const origin = DateTime.fromISO('2015-01-02', { zone: 'America/New_York' });
    const end = DateTime.fromISO(to, { zone: 'America/New_York' });
    const bars: Bar[] = [];
    let price = start;
    let drift = baseDrift;
    let vol = baseVol;
    for (let d = origin, i = 0; d <= end; d = d.plus({ days: 1 })) {
      if (d.weekday > 5) continue;
      if (i++ % 40 === 0) {
        drift = baseDrift + (rand() - 0.5) * 0.004;
        vol = baseVol * (0.6 + rand() * 1.2);
      }
      const ret = drift + vol * gaussian(rand);
      const open = price * (1 + vol * 0.3 * gaussian(rand));
      const close = Math.max(1, price * (1 + ret));
      const high = Math.max(open, close) * (1 + Math.abs(vol * 0.5 * gaussian(rand)));
      const low = Math.min(open, close) * (1 - Math.abs(vol * 0.5 * gaussian(rand)));
      const volume = Math.round(1_000_000 * (0.5 + rand()) * (1 + Math.abs(ret) / vol));
      price = close;
      if (end.diff(d, 'days').days < lookbackDays * 1.5) {
        bars.push({ t: d.set({ hour: 9, minute: 30 }).toUTC().toISO()!, o: round(open), h: round(high), l: round(low), c: round(close), v: volume });
      }
    }
    return bars.slice(-lookbackDays);
  };

  return {
    name: 'simulated',
    async getDailyBars(ticker, { to, lookbackDays }) {
      return daily(ticker, to, lookbackDays);
    },
    async getIntradayBars(ticker, { date }) {
      const last = daily(ticker, date, 2);
      const prev = last[0]?.c ?? 100;
      const rand = prng(hash(`${ticker}|${date}`));
      const open = DateTime.fromISO(date, { zone: 'America/New_York' }).set({ hour: 9, minute: 30 });
      const bars: Bar[] = [];
      let price = prev;
      for (let i = 0; i < 78; i++) {
        const o = price;
        const c = Math.max(1, o * (1 + 0.002 * gaussian(rand)));
        bars.push({ t: open.plus({ minutes: 5 * i }).toUTC().toISO()!, o: round(o), h: round(Math.max(o, c) * 1.0007), l: round(Math.min(o, c) * 0.9993), c: round(c), v: Math.round(20_000 + rand() * 40_000) });
        price = c;
      }
      return bars;
    },
    async getQuote(ticker) {
      const today = DateTime.now().setZone('America/New_York').toISODate()!;
      const bar = daily(ticker, today, 1)[0];
      return bar ? { price: bar.c, time: new Date().toISOString() } : null;
    },
    async getFundamentals() {
      return null;
    },
    async getNews() {
      return null;
    },
  };
}

import { MarketCalendar, nyDate } from '../../calendar/index.ts';
import type { Bar } from '../analysis-types.ts';
import type { MarketDataProvider } from './market-data-provider.ts';
import { seededRandom, gaussian, hashSeed } from './seeded-random.ts';

const DAY_MS = 86_400_000;
const BAR_MS = 5 * 60_000;
/** Every history walks forward from here, so a date's bar never depends on the range asked for. */
const ORIGIN_MS = Date.UTC(2015, 0, 2);
/** Volatility and drift change regime every this many sessions. */
const REGIME_SESSIONS = 40;

const cents = (n: number) => Math.round(n * 100) / 100;
const calendar = new MarketCalendar();

interface DayBar {
  date: string;
  /** The session's open instant (ISO), the daily bar's time stamp: worked out once, when first asked for. */
  t?: string;
  o: number;
  h: number;
  l: number;
  c: number;
  v: number;
}

/**
 * One ticker's walk so far, kept to be extended: a date's bar depends only on the sessions before it,
 * so the history up to any date is a prefix of a longer walk. A replay's cycles (one per past
 * session, each asking up to its own date) then walk once per ticker instead of once per date.
 */
interface Walker {
  days: DayBar[];
  /** The next calendar day to walk (UTC midnight, ms). */
  nextMs: number;
  session: number;
  rand: () => number;
  price: number;
  baseDrift: number;
  baseVol: number;
  drift: number;
  vol: number;
}

const walkers = new Map<string, Walker>();
const MAX_WALKERS = 64;

function walkerOf(ticker: string): Walker {
  let w = walkers.get(ticker);
  if (w) {
    // Most recently used last, so the oldest ticker is the one dropped.
    walkers.delete(ticker);
  } else {
    const rand = seededRandom(hashSeed(ticker));
    const price = 20 + rand() * 480;
    const baseDrift = (rand() - 0.45) * 0.0015;
    const baseVol = 0.008 + rand() * 0.022;
    w = { days: [], nextMs: ORIGIN_MS, session: 0, rand, price, baseDrift, baseVol, drift: baseDrift, vol: baseVol };
  }
  walkers.set(ticker, w);
  if (walkers.size > MAX_WALKERS) walkers.delete(walkers.keys().next().value!);
  return w;
}

/**
 * A geometric random walk with its own base drift and volatility, regimes that shift both every few
 * weeks, wicks, and volume that rises with the size of the move, extended up to `end`. Only NYSE
 * sessions (weekends, holidays and closures skipped).
 */
function extend(w: Walker, endMs: number): void {
  const { rand } = w;
  for (; w.nextMs <= endMs; w.nextMs += DAY_MS) {
    const ms = w.nextMs;
    const weekday = new Date(ms).getUTCDay();
    if (weekday === 0 || weekday === 6) continue;
    const date = new Date(ms).toISOString().slice(0, 10);
    if (calendar.holidayOn(date) !== null) continue;
    if (w.session++ % REGIME_SESSIONS === 0) {
      w.drift = w.baseDrift + (rand() - 0.5) * 0.004;
      w.vol = w.baseVol * (0.6 + rand() * 1.2);
    }
    const { drift, vol, price } = w;
    const ret = drift + vol * gaussian(rand);
    const open = price * (1 + vol * 0.3 * gaussian(rand));
    const close = Math.max(1, price * (1 + ret));
    const high = Math.max(open, close) * (1 + Math.abs(vol * 0.5 * gaussian(rand)));
    const low = Math.min(open, close) * (1 - Math.abs(vol * 0.5 * gaussian(rand)));
    const volume = Math.round(1_000_000 * (0.5 + rand()) * (1 + Math.abs(ret) / vol));
    w.price = close;
    w.days.push({ date, o: cents(open), h: cents(high), l: cents(low), c: cents(close), v: volume });
  }
}

/** One ticker's daily history from the origin up to `end` (YYYY-MM-DD, inclusive). */
function walk(ticker: string, end: string): readonly DayBar[] {
  const w = walkerOf(ticker);
  extend(w, Date.parse(`${end}T00:00:00Z`));
  // The days are in date order: cut after the last one at or before `end`.
  let lo = 0;
  let hi = w.days.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (w.days[mid]!.date <= end) lo = mid + 1;
    else hi = mid;
  }
  return lo === w.days.length ? w.days : w.days.slice(0, lo);
}

/**
 * The 5-minute bars of one full session, consistent with its daily bar: a Brownian bridge from the
 * open to the close, scaled so it touches the day's high or low and never leaves them; the first open,
 * last close, extremes and summed volume are the daily bar's. Seeded per ticker and date.
 */
function sessionBars(ticker: string, day: DayBar, openAt: Date, closeAt: Date): Bar[] {
  const n = Math.round((closeAt.getTime() - openAt.getTime()) / BAR_MS);
  const rand = seededRandom(hashSeed(`${ticker}|${day.date}`));
  const walkPoints = [0];
  for (let k = 1; k <= n; k++) walkPoints.push(walkPoints[k - 1]! + gaussian(rand));
  const bridge = walkPoints.map((w, k) => w - (k / n) * walkPoints[n]!);
  const line = (k: number) => day.o + ((day.c - day.o) * k) / n;
  let scale = Infinity;
  bridge.forEach((b, k) => {
    if (b > 0) scale = Math.min(scale, (day.h - line(k)) / b);
    if (b < 0) scale = Math.min(scale, (line(k) - day.l) / -b);
  });
  if (!Number.isFinite(scale)) scale = 0;
  const path = bridge.map((b, k) => Math.min(day.h, Math.max(day.l, cents(line(k) + scale * b))));
  // Volume is U-shaped over the session (busy open and close), with noise.
  const weights = Array.from({ length: n }, (_, i) => (1 + 1.5 * ((i / Math.max(1, n - 1) - 0.5) * 2) ** 2) * (0.7 + 0.6 * rand()));
  const total = weights.reduce((a, b) => a + b, 0);
  const bars: Bar[] = [];
  let volumeLeft = day.v;
  for (let i = 0; i < n; i++) {
    const o = path[i]!;
    const c = path[i + 1]!;
    const wick = Math.abs(gaussian(rand)) * 0.0004;
    const v = i === n - 1 ? volumeLeft : Math.round((day.v * weights[i]!) / total);
    volumeLeft -= v;
    bars.push({ t: new Date(openAt.getTime() + i * BAR_MS).toISOString(), o, h: Math.min(day.h, cents(Math.max(o, c) * (1 + wick))), l: Math.max(day.l, cents(Math.min(o, c) * (1 - wick))), c, v });
  }
  // The bars holding the path's extremes carry the day's high and low, so the session aggregates exactly.
  const hi = bars.reduce((best, b, i) => (b.h > bars[best]!.h ? i : best), 0);
  const lo = bars.reduce((best, b, i) => (b.l < bars[best]!.l ? i : best), 0);
  bars[hi]!.h = day.h;
  bars[lo]!.l = day.l;
  return bars;
}

/**
 * Deterministic, realistic-looking market data for running anywhere without a network or keys. It
 * knows the clock: no bars from the future, today's daily bar is the session so far (built from the
 * 5-minute bars that have closed), and the quote is the latest close. Fundamentals and news are not
 * invented: the provider says it has none.
 */
export function createSimulatedProvider(opts: { now?: () => Date } = {}): MarketDataProvider {
  const now = () => opts.now?.() ?? new Date();

  /** Session bars of `date` that have closed by now. */
  const intradayOn = (ticker: string, date: string, at: Date): Bar[] => {
    const session = calendar.sessionOn(date, 'regular');
    if (!session || at < session.open) return [];
    const day = walk(ticker, date).at(-1);
    if (!day || day.date !== date) return [];
    return sessionBars(ticker, day, session.open, session.close).filter((b) => Date.parse(b.t) + BAR_MS <= at.getTime());
  };

  const dailyUpTo = (ticker: string, to: string, lookbackDays: number): Bar[] => {
    const at = now();
    const today = nyDate(at);
    const end = to < today ? to : today;
    const days = walk(ticker, end).slice(-(lookbackDays + 1)).map((d) => ({ ...d, t: (d.t ??= calendar.sessionOn(d.date, 'regular')!.open.toISOString()) }));
    const last = days.at(-1);
    if (last && last.date === today) {
      const session = calendar.sessionOn(today, 'regular')!;
      if (at < session.close) {
        const sofar = intradayOn(ticker, today, at);
        if (sofar.length === 0) days.pop();
        else Object.assign(last, { o: sofar[0]!.o, h: Math.max(...sofar.map((b) => b.h)), l: Math.min(...sofar.map((b) => b.l)), c: sofar.at(-1)!.c, v: sofar.reduce((s, b) => s + b.v, 0) });
      }
    }
    return days.slice(-lookbackDays).map((d) => ({ t: d.t, o: d.o, h: d.h, l: d.l, c: d.c, v: d.v }));
  };

  return {
    name: 'simulated',
    async getDailyBars(ticker, { to, lookbackDays }) {
      return dailyUpTo(ticker, to, lookbackDays);
    },
    async getIntradayBars(ticker, { date }) {
      return intradayOn(ticker, date, now());
    },
    async getQuote(ticker) {
      const at = now();
      const bar = dailyUpTo(ticker, nyDate(at), 1)[0];
      if (!bar) return null;
      const session = calendar.sessionOn(nyDate(new Date(bar.t)), 'regular')!;
      return { price: bar.c, time: (at < session.close ? at : session.close).toISOString() };
    },
    async getFundamentals() {
      return null;
    },
    async getNews() {
      return null;
    },
  };
}

import { KNOWN_ONE_OFF_CLOSURES } from './one-off-closures.ts';
import { earlyClosesOfYear, holidaysOfYear } from './nyse-holidays.ts';
import { addDays, nyDate, nyInstant, parseMarketDate, weekdayOf } from './ny-date.ts';

export type MarketSession = 'regular' | 'extended' | 'always';
export type SessionPhase = 'pre' | 'regular' | 'post' | 'closed';

/** One session's bounds on a New York date; `open` is inclusive, `close` exclusive. */
export interface SessionWindow {
  date: string;
  open: Date;
  close: Date;
  early_close: boolean;
}

/** The body of GET /api/market/status. */
export interface MarketStatus {
  open: boolean;
  session: SessionPhase;
  now: string;
  next_open: string;
  next_close: string;
  early_close: boolean;
  holiday?: string;
}

export interface MarketCalendarOptions {
  /** Extra one-off full-day closures (YYYY-MM-DD), added to the built-in list. */
  extraClosures?: readonly string[];
}

/** Session bounds as [hour, minute] New York time. */
const BOUNDS = {
  regular: { open: [9, 30], close: [16, 0], earlyClose: [13, 0] },
  extended: { open: [4, 0], close: [20, 0], earlyClose: [17, 0] },
} as const;

/**
 * The `always` session never closes; its window ends at this fixed, far, still ISO-serialisable instant
 * instead of an Infinity that a Date, JSON or BullMQ could not carry.
 */
export const ALWAYS_OPEN_UNTIL = new Date('9999-12-31T23:59:59.999Z');

/** Enough for any closure run the exchange has had (9/11 closed it 4 weekdays), with room for config. */
const MAX_SCAN_DAYS = 400;

interface Window {
  date: string;
  open: number;
  close: number;
  early: boolean;
}

const toPublic = (w: Window): SessionWindow => ({ date: w.date, open: new Date(w.open), close: new Date(w.close), early_close: w.early });

/**
 * The NYSE calendar in America/New_York: sessions, holidays, early closes and one-off closures. Every bound
 * is a New York wall-clock time resolved by Luxon for that date, so DST changes are exact. Pure: the
 * instant to ask about is always a parameter.
 *
 * `always` is open at every instant: `sessionOn(d, 'always')` is the whole New York day on every date
 * (weekends and holidays too), `nextSessionWindow`/`nextClose` end at ALWAYS_OPEN_UNTIL and `nextOpen`
 * is `at` itself.
 */
export class MarketCalendar {
  private readonly closures: ReadonlySet<string>;
  private readonly years = new Map<number, { holidays: Map<string, string>; early: Map<string, string> }>();
  private readonly windows = new Map<string, Window | null>();

  constructor(opts: MarketCalendarOptions = {}) {
    const closures = new Set(Object.keys(KNOWN_ONE_OFF_CLOSURES));
    for (const date of opts.extraClosures ?? []) {
      parseMarketDate(date); // a mistyped closure must fail at start-up, not silently keep the market open
      closures.add(date);
    }
    this.closures = closures;
  }

  /** Holidays and early closes per year, computed once: the scheduler asks many times a minute. */
  private year(year: number) {
    let entry = this.years.get(year);
    if (!entry) {
      const holidays = holidaysOfYear(year);
      const early = earlyClosesOfYear(year, (d) => holidays.has(d) || this.closures.has(d));
      entry = { holidays, early };
      this.years.set(year, entry);
    }
    return entry;
  }

  /** The holiday's name, 'Closure' for a one-off closure, or null (also on ordinary weekends). */
  holidayOn(date: string): string | null {
    const { year } = parseMarketDate(date);
    return this.year(year).holidays.get(date) ?? (this.closures.has(date) ? 'Closure' : null);
  }

  isEarlyClose(date: string): boolean {
    return this.year(parseMarketDate(date).year).early.has(date);
  }

  isTradingDay(date: string): boolean {
    return weekdayOf(date) <= 5 && this.holidayOn(date) === null;
  }

  /** The session window on a New York date, or null when the exchange is closed that day. */
  sessionOn(date: string, session: MarketSession): SessionWindow | null {
    const w = this.window(date, session);
    return w && toPublic(w);
  }

  private window(date: string, session: MarketSession): Window | null {
    const key = `${date}|${session}`;
    let w = this.windows.get(key);
    if (w === undefined) {
      w = this.computeWindow(date, session);
      this.windows.set(key, w);
    }
    return w;
  }

  private computeWindow(date: string, session: MarketSession): Window | null {
    if (session === 'always') {
      // Midnight to midnight: 23 or 25 hours on DST days.
      return { date, open: nyInstant(date, 0, 0), close: nyInstant(addDays(date, 1), 0, 0), early: false };
    }
    if (!this.isTradingDay(date)) return null;
    const early = this.isEarlyClose(date);
    const b = BOUNDS[session];
    const [closeH, closeM] = early ? b.earlyClose : b.close;
    return { date, open: nyInstant(date, b.open[0], b.open[1]), close: nyInstant(date, closeH, closeM), early };
  }

  isOpen(at: Date, session: MarketSession): boolean {
    if (session === 'always') return true;
    const w = this.window(nyDate(at), session);
    const t = at.getTime();
    return w !== null && t >= w.open && t < w.close;
  }

  /** Pre 04:00–09:30, regular 09:30–16:00 (13:00 on early closes), post until 20:00 (17:00), else closed. */
  currentSession(at: Date): SessionPhase {
    const date = nyDate(at);
    const regular = this.window(date, 'regular');
    const extended = this.window(date, 'extended');
    if (!regular || !extended) return 'closed';
    const t = at.getTime();
    if (t >= regular.open && t < regular.close) return 'regular';
    if (t >= extended.open && t < regular.open) return 'pre';
    if (t >= regular.close && t < extended.close) return 'post';
    return 'closed';
  }

  /** The window containing `at`, or else the next one. For `always`: from `at` to ALWAYS_OPEN_UNTIL. */
  nextSessionWindow(at: Date, session: MarketSession): SessionWindow {
    if (session === 'always') return { date: nyDate(at), open: new Date(at), close: new Date(ALWAYS_OPEN_UNTIL), early_close: false };
    return toPublic(this.windowFrom(at.getTime(), session));
  }

  private windowFrom(t: number, session: 'regular' | 'extended'): Window {
    let date = nyDate(new Date(t));
    for (let i = 0; i < MAX_SCAN_DAYS; i++, date = addDays(date, 1)) {
      const w = this.window(date, session);
      if (w && t < w.close) return w;
    }
    throw new Error(`no ${session} session within ${MAX_SCAN_DAYS} days of ${new Date(t).toISOString()}`);
  }

  /**
   * The next session open at or after `at`; when the session is open at `at` (its very open included),
   * the open of the following session. Always later than `at`, except for `always`, which is open now.
   */
  nextOpen(at: Date, session: MarketSession = 'regular'): Date {
    if (session === 'always') return new Date(at);
    const t = at.getTime();
    const w = this.windowFrom(t, session);
    return new Date(t < w.open ? w.open : this.windowFrom(w.close, session).open);
  }

  /** The close of the session open at `at`, else of the next session. */
  nextClose(at: Date, session: MarketSession = 'regular'): Date {
    if (session === 'always') return new Date(ALWAYS_OPEN_UNTIL);
    return new Date(this.windowFrom(at.getTime(), session).close);
  }

  /** Every session window overlapping [from, to), oldest first. */
  sessionsBetween(from: Date, to: Date, session: MarketSession = 'regular'): SessionWindow[] {
    const [start, end] = [from.getTime(), to.getTime()];
    const out: SessionWindow[] = [];
    if (!(start < end)) return out;
    const last = nyDate(to);
    for (let date = nyDate(from); date <= last; date = addDays(date, 1)) {
      const w = this.window(date, session);
      if (w && w.close > start && w.open < end) out.push(toPublic(w));
    }
    return out;
  }

  /** The body of GET /api/market/status: the regular session as seen at `at`. */
  status(at: Date): MarketStatus {
    const date = nyDate(at);
    const holiday = this.holidayOn(date);
    const status: MarketStatus = {
      open: this.isOpen(at, 'regular'),
      session: this.currentSession(at),
      now: at.toISOString(),
      next_open: this.nextOpen(at, 'regular').toISOString(),
      next_close: this.nextClose(at, 'regular').toISOString(),
      early_close: this.isEarlyClose(date),
    };
    if (holiday !== null) status.holiday = holiday;
    return status;
  }
}

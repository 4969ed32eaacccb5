import { DateTime } from 'luxon';
import { earlyClosesOfYear, holidaysOfYear, KNOWN_ONE_OFF_CLOSURES, NY_ZONE } from './nyse-holidays.ts';

export type MarketSession = 'regular' | 'extended' | 'always';
export type SessionPhase = 'pre' | 'regular' | 'post' | 'closed';

/** One trading session's bounds; `close` is exclusive. */
export interface SessionWindow {
  date: string;
  open: Date;
  close: Date;
  early_close: boolean;
}

export interface MarketStatus {
  open: boolean;
  session: SessionPhase;
  now: string;
  next_open: string;
  next_close: string;
  early_close: boolean;
  holiday?: string;
}

/** Session bounds as [hour, minute] in New York time. */
const BOUNDS = {
  regular: { open: [9, 30], close: [16, 0], earlyClose: [13, 0] },
  extended: { open: [4, 0], close: [20, 0], earlyClose: [17, 0] },
} as const;

/** `always` windows are open-ended; a far horizon keeps them plain Dates. */
const ALWAYS_HORIZON_MS = 10 * 365 * 24 * 3600_000;
const MAX_SCAN_DAYS = 20; // the longest run of closed days is far shorter

/**
 * The NYSE calendar in America/New_York: sessions, holidays, early closes and configured one-off
 * closures. All arithmetic goes through Luxon in the exchange's zone, so DST changes are exact.
 */
export class MarketCalendar {
  private readonly extraClosures: Map<string, string>;
  private readonly windows = new Map<string, SessionWindow | null>();
  private readonly years = new Map<number, { holidays: Map<string, string>; early: Map<string, string> }>();

  constructor(opts: { extraClosures?: readonly string[] } = {}) {
    this.extraClosures = new Map(Object.entries(KNOWN_ONE_OFF_CLOSURES));
    for (const date of opts.extraClosures ?? []) this.extraClosures.set(date, 'Closure');
  }

  private year(year: number) {
    let entry = this.years.get(year);
    if (!entry) {
      const holidays = holidaysOfYear(year);
      const early = earlyClosesOfYear(year, (d) => holidays.has(d) || this.extraClosures.has(d));
      entry = { holidays, early };
      this.years.set(year, entry);
    }
    return entry;
  }

  /** Holiday name, or the closure's reason, for a YYYY-MM-DD date; null on a trading day or weekend. */
  holidayOn(date: string): string | null {
    const year = Number(date.slice(0, 4));
    return this.year(year).holidays.get(date) ?? this.extraClosures.get(date) ?? null;
  }

  isEarlyClose(date: string): boolean {
    return this.year(Number(date.slice(0, 4))).early.has(date);
  }

  isTradingDay(date: string): boolean {
    const d = DateTime.fromISO(date, { zone: NY_ZONE });
    return d.isValid && d.weekday <= 5 && this.holidayOn(date) === null;
  }

  /** The session window on a New York date, or null when the exchange is closed that day. */
  sessionOn(date: string, session: MarketSession): SessionWindow | null {
    const key = `${date}|${session}`;
    if (!this.windows.has(key)) this.windows.set(key, this.computeSession(date, session));
    const w = this.windows.get(key)!;
    // Copies, so callers cannot mutate the cached Dates.
    return w && { ...w, open: new Date(w.open), close: new Date(w.close) };
  }

  private computeSession(date: string, session: MarketSession): SessionWindow | null {
    if (!this.isTradingDay(date)) return null;
    const d = DateTime.fromISO(date, { zone: NY_ZONE });
    const early = this.isEarlyClose(date);
    if (session === 'always') {
      const start = d.startOf('day');
      return { date, open: start.toJSDate(), close: start.plus({ days: 1 }).toJSDate(), early_close: early };
    }
    const b = BOUNDS[session];
    const [closeH, closeM] = early ? b.earlyClose : b.close;
    return {
      date,
      open: d.set({ hour: b.open[0], minute: b.open[1], second: 0, millisecond: 0 }).toJSDate(),
      close: d.set({ hour: closeH, minute: closeM, second: 0, millisecond: 0 }).toJSDate(),
      early_close: early,
    };
  }

  isOpen(at: Date, session: MarketSession): boolean {
    if (session === 'always') return true;
    const window = this.sessionOn(nyDate(at), session);
    return window !== null && at >= window.open && at < window.close;
  }

  currentSession(at: Date): SessionPhase {
    const date = nyDate(at);
    const regular = this.sessionOn(date, 'regular');
    const extended = this.sessionOn(date, 'extended');
    if (!regular || !extended) return 'closed';
    if (at >= regular.open && at < regular.close) return 'regular';
    if (at >= extended.open && at < regular.open) return 'pre';
    if (at >= regular.close && at < extended.close) return 'post';
    return 'closed';
  }

  /** The window containing `at`, or else the next one. For `always`: from `at`, open-ended. */
  nextSessionWindow(at: Date, session: MarketSession): SessionWindow {
    if (session === 'always') {
      return { date: nyDate(at), open: at, close: new Date(at.getTime() + ALWAYS_HORIZON_MS), early_close: false };
    }
    let d = DateTime.fromJSDate(at, { zone: NY_ZONE }).startOf('day');
    for (let i = 0; i < MAX_SCAN_DAYS; i++, d = d.plus({ days: 1 })) {
      const window = this.sessionOn(d.toISODate()!, session);
      if (window && at < window.close) return window;
    }
    throw new Error(`no ${session} session within ${MAX_SCAN_DAYS} days of ${at.toISOString()}`);
  }

  /** The next session open at or after `at` (if the market is open now: the following session's open). */
  nextOpen(at: Date, session: MarketSession = 'regular'): Date {
    if (session === 'always') return at;
    const window = this.nextSessionWindow(at, session);
    if (window.open >= at) return window.open;
    return this.nextSessionWindow(window.close, session).open;
  }

  /** The close of the current session when open, else of the next session. */
  nextClose(at: Date, session: MarketSession = 'regular'): Date {
    return this.nextSessionWindow(at, session).close;
  }

  /** Every session window overlapping [from, to). */
  sessionsBetween(from: Date, to: Date, session: MarketSession = 'regular'): SessionWindow[] {
    const out: SessionWindow[] = [];
    let d = DateTime.fromJSDate(from, { zone: NY_ZONE }).startOf('day');
    const end = DateTime.fromJSDate(to, { zone: NY_ZONE });
    for (; d <= end; d = d.plus({ days: 1 })) {
      const window = this.sessionOn(d.toISODate()!, session);
      if (window && window.close > from && window.open < to) out.push(window);
    }
    return out;
  }

  /** The body of GET /api/market/status: the regular session seen from `at`. */
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
    if (holiday) status.holiday = holiday;
    return status;
  }
}

/** The New York calendar date of an instant. */
export function nyDate(at: Date): string {
  return DateTime.fromJSDate(at, { zone: NY_ZONE }).toISODate()!;
}

import type { MarketCalendar } from '../calendar/index.ts';
import type { ScheduleEntry } from '../core/index.ts';

export interface ScheduleSilence {
  schedule: string;
  ticker: string;
  paused: boolean;
  /** `every` in seconds; null for cron schedules. */
  interval_s: number | null;
  /** Seconds since the last successful scheduled run, counted from the session's open at the earliest; 0 when it is not due to run. */
  silence_s: number;
}

/**
 * How long each (schedule, ticker) has gone without a successful scheduled run while it should have
 * been running. Counting starts no earlier than the open of the current session, so the night before
 * never makes a schedule look silent at 09:31; a disabled or paused schedule, or a closed session, is
 * never silent.
 */
export function scheduleSilence(input: {
  entries: ScheduleEntry[];
  paused: Set<string>;
  lastSuccess: Array<{ schedule: string; ticker: string; at_s: number }>;
  calendar: MarketCalendar;
  now: Date;
  /** When the scheduler last loaded the file: the start of counting for `always` schedules. */
  loadedAt: number | null;
}): ScheduleSilence[] {
  const { calendar, now } = input;
  const last = new Map(input.lastSuccess.map((s) => [`${s.schedule}|${s.ticker}`, s.at_s * 1000]));
  const out: ScheduleSilence[] = [];
  for (const e of input.entries) {
    const paused = input.paused.has(e.id);
    const due = e.enabled && !paused && calendar.isOpen(now, e.market_hours);
    const opened = !due ? now.getTime() : e.market_hours === 'always' ? (input.loadedAt ?? now.getTime()) : calendar.nextSessionWindow(now, e.market_hours).open.getTime();
    for (const ticker of e.tickers) {
      const since = Math.max(opened, last.get(`${e.id}|${ticker}`) ?? 0);
      out.push({ schedule: e.id, ticker, paused, interval_s: e.every ? e.every / 1000 : null, silence_s: due ? Math.max(0, Math.round((now.getTime() - since) / 1000)) : 0 });
    }
  }
  return out;
}

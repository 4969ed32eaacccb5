import { MarketCalendar, nyDate } from '../calendar/index.ts';
import type { Bar } from './analysis-types.ts';

const calendar = new MarketCalendar();

/** The intraday bars a cycle reads are 5-minute bars, stamped at their opening time. */
export const INTRADAY_BAR_MS = 5 * 60_000;

/**
 * When the close of a 5-minute bar was struck: the end of its five minutes, not its opening stamp; a bar
 * still forming when it was read (a live cycle mid-bar) has the last trade so far, so no later than that read.
 */
export function intradayCloseTime(bar: Bar, seenAt: Date): string {
  return new Date(Math.min(Date.parse(bar.t) + INTRADAY_BAR_MS, seenAt.getTime())).toISOString();
}

/**
 * When the close of a daily bar was struck, as far as the cycle can know it: a session that had closed
 * when the bar was seen closed at its (early) close time; a bar still forming has the last trade so far,
 * so its provider's time, kept between the session's open and the moment it was seen (never later than
 * what the cycle had). Sources stamp daily bars at the open or at midnight, neither of which is the time
 * of the close price.
 */
export function dailyCloseTime(bar: Bar, seenAt: Date): string {
  const session = calendar.sessionOn(nyDate(new Date(bar.t)), 'regular');
  if (!session) return bar.t;
  if (session.close.getTime() <= seenAt.getTime()) return session.close.toISOString();
  return new Date(Math.min(Math.max(Date.parse(bar.t), session.open.getTime()), seenAt.getTime())).toISOString();
}

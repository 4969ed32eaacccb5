import { DateTime } from 'luxon';
import { MarketCalendar, NY_ZONE } from '../../calendar/index.ts';

/**
 * What a research source knew as of an analysis date. A source that cannot say what it knew then is
 * `unavailable` for that date: a backdated cycle never sees today's news, posts or numbers.
 */
export type PointInTime<T> =
  | { available: true; source: string; as_of: string; data: T; note?: string }
  | { available: false; source: string; as_of: string; reason: string };

const calendar = new MarketCalendar();

/**
 * The last instant a cycle for `date` may see: that day's close in New York (16:00, or the early close;
 * 16:00 on a day without a session), and never later than now.
 */
export function cutoffOf(date: string, now: Date = new Date()): Date {
  const session = calendar.sessionOn(date, 'regular');
  const close = session?.close ?? DateTime.fromISO(`${date}T16:00:00`, { zone: NY_ZONE }).toJSDate();
  return close.getTime() < now.getTime() ? close : now;
}

export const unavailable = <T>(source: string, as_of: string, reason: string): PointInTime<T> => ({ available: false, source, as_of, reason });

/** One-line description for prompts and reports: "unavailable for 2026-11-20 (why)". */
export function describeUnavailable(p: { available: false; as_of: string; source: string; reason: string }): string {
  return `unavailable for ${p.as_of} from ${p.source}: ${p.reason}`;
}

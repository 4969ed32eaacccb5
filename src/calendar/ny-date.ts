import { DateTime } from 'luxon';

/** The exchange's time zone; every session bound is a New York wall-clock time. */
export const NY_ZONE = 'America/New_York';

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const HOUR_MS = 3_600_000;
const MEMO_LIMIT = 100_000;

/**
 * New York's UTC offset is always a whole number of hours, so a New York date never changes inside a UTC
 * hour: memoising per UTC hour makes the scheduler's frequent "what day is it" questions cheap.
 */
const dateOfHour = new Map<number, string>();

/** The New York calendar date (YYYY-MM-DD) of an instant. */
export function nyDate(at: Date): string {
  const ms = at.getTime();
  if (!Number.isFinite(ms)) throw new RangeError('invalid Date');
  const hour = Math.floor(ms / HOUR_MS);
  let date = dateOfHour.get(hour);
  if (date === undefined) {
    date = DateTime.fromMillis(hour * HOUR_MS, { zone: NY_ZONE }).toISODate()!;
    if (dateOfHour.size >= MEMO_LIMIT) dateOfHour.clear();
    dateOfHour.set(hour, date);
  }
  return date;
}

/** Checks a YYYY-MM-DD calendar date (rejecting e.g. 2025-02-30) and returns it as numbers. */
export function parseMarketDate(date: string): { year: number; month: number; day: number } {
  const m = ISO_DATE.exec(date);
  if (m) {
    const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
    // A date that does not exist (Feb 30) rolls over into another month.
    const probe = new Date(0);
    probe.setUTCFullYear(year, month - 1, day);
    if (probe.getUTCMonth() === month - 1 && probe.getUTCDate() === day) return { year, month, day };
  }
  throw new RangeError(`invalid market date "${date}": expected an existing YYYY-MM-DD date`);
}

/** The calendar date `days` after `date`: calendar arithmetic, independent of any clock change. */
export function addDays(date: string, days: number): string {
  const { year, month, day } = parseMarketDate(date);
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day + days);
  return d.toISOString().slice(0, 10);
}

/** ISO weekday of a calendar date: 1 = Monday … 7 = Sunday. */
export function weekdayOf(date: string): number {
  const { year, month, day } = parseMarketDate(date);
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  return d.getUTCDay() || 7;
}

/**
 * The instant of a New York wall-clock time on a date. Luxon resolves the zone offset of that very
 * moment, so a session after a DST change starts at the right UTC instant (no "+24 h" arithmetic).
 */
export function nyInstant(date: string, hour: number, minute: number): number {
  const { year, month, day } = parseMarketDate(date);
  return DateTime.fromObject({ year, month, day, hour, minute }, { zone: NY_ZONE }).toMillis();
}

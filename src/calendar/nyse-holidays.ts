import { addDays, weekdayOf } from './ny-date.ts';

/** NYSE full-day holidays and early closes, computed by the exchange's rules for any year (exact from 2000 on). */

const pad = (n: number) => String(n).padStart(2, '0');
const isoDate = (year: number, month: number, day: number) => `${year}-${pad(month)}-${pad(day)}`;

/** The n-th given ISO weekday (1 = Monday … 7 = Sunday) of a month; n = -1 for the last one. */
function nthWeekday(year: number, month: number, weekday: number, n: number): string {
  if (n > 0) {
    const first = isoDate(year, month, 1);
    return addDays(first, ((weekday - weekdayOf(first) + 7) % 7) + (n - 1) * 7);
  }
  const last = addDays(month === 12 ? isoDate(year + 1, 1, 1) : isoDate(year, month + 1, 1), -1);
  return addDays(last, -((weekdayOf(last) - weekday + 7) % 7));
}

/** Western (Gregorian) Easter Sunday as YYYY-MM-DD — the anonymous Gregorian computus. */
export function easterSunday(year: number): string {
  const a = year % 19;
  const b = Math.floor(year / 100);
  const c = year % 100;
  const d = Math.floor(b / 4);
  const e = b % 4;
  const f = Math.floor((b + 8) / 25);
  const g = Math.floor((b - f + 1) / 3);
  const h = (19 * a + b - d - g + 15) % 30;
  const i = Math.floor(c / 4);
  const k = c % 4;
  const l = (32 + 2 * e + 2 * i - h - k) % 7;
  const m = Math.floor((a + 11 * h + 22 * l) / 451);
  const month = Math.floor((h + l - 7 * m + 114) / 31);
  const day = ((h + l - 7 * m + 114) % 31) + 1;
  return isoDate(year, month, day);
}

/** NYSE Rule 7.2: a holiday on Saturday closes the Friday before, on Sunday the Monday after. */
function observed(date: string): string {
  const weekday = weekdayOf(date);
  if (weekday === 6) return addDays(date, -1);
  if (weekday === 7) return addDays(date, 1);
  return date;
}

/** YYYY-MM-DD → holiday name for the full-day holidays observed in `year`. */
export function holidaysOfYear(year: number): Map<string, string> {
  const out = new Map<string, string>();
  const add = (date: string, name: string) => {
    if (date.startsWith(`${year}-`)) out.set(date, name);
  };
  // New Year's Day on a Saturday is not moved to Friday Dec 31: the rule's exception for the end of an
  // accounting period keeps the year's last day trading (2021-12-31, 2027-12-31).
  const newYear = isoDate(year, 1, 1);
  if (weekdayOf(newYear) !== 6) add(observed(newYear), "New Year's Day");
  if (year >= 1998) add(nthWeekday(year, 1, 1, 3), 'Martin Luther King Jr. Day');
  add(nthWeekday(year, 2, 1, 3), "Washington's Birthday");
  add(addDays(easterSunday(year), -2), 'Good Friday');
  add(nthWeekday(year, 5, 1, -1), 'Memorial Day');
  if (year >= 2022) add(observed(isoDate(year, 6, 19)), 'Juneteenth National Independence Day');
  add(observed(isoDate(year, 7, 4)), 'Independence Day');
  add(nthWeekday(year, 9, 1, 1), 'Labor Day');
  add(nthWeekday(year, 11, 4, 4), 'Thanksgiving Day');
  add(observed(isoDate(year, 12, 25)), 'Christmas Day');
  return out;
}

/**
 * YYYY-MM-DD → reason for the early closes (13:00 regular, 17:00 extended) of `year`: July 3 and
 * December 24 only when they fall Monday–Thursday and are trading days, the day after Thanksgiving always
 * (unless it is itself closed). `isClosed` sees holidays and one-off closures.
 */
export function earlyClosesOfYear(year: number, isClosed: (date: string) => boolean): Map<string, string> {
  const out = new Map<string, string>();
  const consider = (date: string, reason: string, mondayToThursday: boolean) => {
    const weekday = weekdayOf(date);
    if (weekday > (mondayToThursday ? 4 : 5) || isClosed(date)) return;
    out.set(date, reason);
  };
  consider(isoDate(year, 7, 3), 'Day before Independence Day', true);
  consider(addDays(nthWeekday(year, 11, 4, 4), 1), 'Day after Thanksgiving', false);
  consider(isoDate(year, 12, 24), 'Christmas Eve', true);
  return out;
}

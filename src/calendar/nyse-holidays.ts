import { DateTime } from 'luxon';

/** NYSE full-day holidays and 13:00 early closes, computed by the exchange's rules for any year. */

export const NY_ZONE = 'America/New_York';

/**
 * Unscheduled closures the exchange announced (national days of mourning, weather, 9/11); more can be
 * added at run time through config (MARKET_CLOSURES) without code.
 */
export const KNOWN_ONE_OFF_CLOSURES: Record<string, string> = {
  '2001-09-11': 'September 11 attacks',
  '2001-09-12': 'September 11 attacks',
  '2001-09-13': 'September 11 attacks',
  '2001-09-14': 'September 11 attacks',
  '2004-06-11': 'National day of mourning (President Reagan)',
  '2007-01-02': 'National day of mourning (President Ford)',
  '2012-10-29': 'Hurricane Sandy',
  '2012-10-30': 'Hurricane Sandy',
  '2018-12-05': 'National day of mourning (President G. H. W. Bush)',
  '2025-01-09': 'National day of mourning (President Carter)',
};

type Day = DateTime<true>;

function day(year: number, month: number, dayOfMonth: number): Day {
  return DateTime.fromObject({ year, month, day: dayOfMonth }, { zone: NY_ZONE }) as Day;
}

/** The n-th given weekday (1 = Monday … 7 = Sunday) of a month; n = -1 for the last one. */
function nthWeekday(year: number, month: number, weekday: number, n: number): Day {
  if (n > 0) {
    const first = day(year, month, 1);
    return first.plus({ days: ((weekday - first.weekday + 7) % 7) + (n - 1) * 7 });
  }
  const last = day(year, month, 1).endOf('month').startOf('day');
  return last.minus({ days: (last.weekday - weekday + 7) % 7 });
}

/** Western (Gregorian) Easter Sunday — the anonymous Gregorian computus. */
export function easterSunday(year: number): Day {
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
  const dayOfMonth = ((h + l - 7 * m + 114) % 31) + 1;
  return day(year, month, dayOfMonth);
}

/** Saturday → the Friday before, Sunday → the Monday after. */
function observed(date: Day): Day {
  if (date.weekday === 6) return date.minus({ days: 1 });
  if (date.weekday === 7) return date.plus({ days: 1 });
  return date;
}

/** Map of YYYY-MM-DD → holiday name for the holidays observed in `year`. */
export function holidaysOfYear(year: number): Map<string, string> {
  const out = new Map<string, string>();
  const add = (date: Day, name: string) => {
    if (date.year === year) out.set(date.toISODate(), name);
  };
  // New Year's Day on a Saturday is not observed on Friday Dec 31 (the exchange keeps year-end trading).
  const newYear = day(year, 1, 1);
  if (newYear.weekday === 7) add(newYear.plus({ days: 1 }), "New Year's Day");
  else if (newYear.weekday !== 6) add(newYear, "New Year's Day");
  if (year >= 1998) add(nthWeekday(year, 1, 1, 3), 'Martin Luther King Jr. Day');
  add(nthWeekday(year, 2, 1, 3), "Washington's Birthday");
  add(easterSunday(year).minus({ days: 2 }), 'Good Friday');
  add(nthWeekday(year, 5, 1, -1), 'Memorial Day');
  if (year >= 2022) add(observed(day(year, 6, 19)), 'Juneteenth National Independence Day');
  add(observed(day(year, 7, 4)), 'Independence Day');
  add(nthWeekday(year, 9, 1, 1), 'Labor Day');
  add(nthWeekday(year, 11, 4, 4), 'Thanksgiving Day');
  add(observed(day(year, 12, 25)), 'Christmas Day');
  return out;
}

/**
 * Map of YYYY-MM-DD → reason for 13:00 early closes in `year`: July 3 and Dec 24 only when they fall
 * Monday–Thursday (and are trading days), the day after Thanksgiving always.
 */
export function earlyClosesOfYear(year: number, isHoliday: (date: string) => boolean): Map<string, string> {
  const out = new Map<string, string>();
  const consider = (date: Day, reason: string, weekdaysOnly: boolean) => {
    const iso = date.toISODate();
    if (weekdaysOnly && date.weekday > 4) return;
    if (date.weekday > 5 || isHoliday(iso)) return;
    out.set(iso, reason);
  };
  consider(day(year, 7, 3), 'Day before Independence Day', true);
  consider(nthWeekday(year, 11, 4, 4).plus({ days: 1 }), 'Day after Thanksgiving', false);
  consider(day(year, 12, 24), 'Christmas Eve', true);
  return out;
}

import { describe, expect, it } from 'vitest';
import { easterSunday, holidaysOfYear, KNOWN_ONE_OFF_CLOSURES, MarketCalendar } from './index.ts';

const cal = new MarketCalendar();

/**
 * Every weekday the NYSE is closed and every 13:00 early close, as the exchange published them (NYSE Group's
 * holiday and early-closings calendars announced 2023-11, 2024-11 and 2025-12). 2025-01-09 is the national day
 * of mourning for President Carter, announced separately.
 */
const PUBLISHED: Record<number, { holidays: string[]; early: string[] }> = {
  2024: {
    holidays: ['2024-01-01', '2024-01-15', '2024-02-19', '2024-03-29', '2024-05-27', '2024-06-19', '2024-07-04', '2024-09-02', '2024-11-28', '2024-12-25'],
    early: ['2024-07-03', '2024-11-29', '2024-12-24'],
  },
  2025: {
    holidays: ['2025-01-01', '2025-01-09', '2025-01-20', '2025-02-17', '2025-04-18', '2025-05-26', '2025-06-19', '2025-07-04', '2025-09-01', '2025-11-27', '2025-12-25'],
    early: ['2025-07-03', '2025-11-28', '2025-12-24'],
  },
  2026: {
    holidays: ['2026-01-01', '2026-01-19', '2026-02-16', '2026-04-03', '2026-05-25', '2026-06-19', '2026-07-03', '2026-09-07', '2026-11-26', '2026-12-25'],
    early: ['2026-11-27', '2026-12-24'],
  },
  2027: {
    holidays: ['2027-01-01', '2027-01-18', '2027-02-15', '2027-03-26', '2027-05-31', '2027-06-18', '2027-07-05', '2027-09-06', '2027-11-25', '2027-12-24'],
    early: ['2027-11-26'],
  },
  2028: {
    // New Year's Day 2028 is a Saturday: no holiday observed at all.
    holidays: ['2028-01-17', '2028-02-21', '2028-04-14', '2028-05-29', '2028-06-19', '2028-07-04', '2028-09-04', '2028-11-23', '2028-12-25'],
    early: ['2028-07-03', '2028-11-24'],
  },
};

/** Weekdays of a year, walked by calendar date (no clock arithmetic). */
function weekdaysOf(year: number): string[] {
  const out: string[] = [];
  for (let d = new Date(Date.UTC(year, 0, 1)); d.getUTCFullYear() === year; d.setUTCDate(d.getUTCDate() + 1)) {
    if (d.getUTCDay() !== 0 && d.getUTCDay() !== 6) out.push(d.toISOString().slice(0, 10));
  }
  return out;
}

describe('NYSE holidays and early closes against the published calendar', () => {
  for (const [year, expected] of Object.entries(PUBLISHED)) {
    it(`${year}: exactly the published weekday closures, no other weekday closed`, () => {
      expect(weekdaysOf(Number(year)).filter((d) => !cal.isTradingDay(d))).toEqual(expected.holidays);
      for (const d of expected.holidays) expect(cal.holidayOn(d)).not.toBeNull();
    });
    it(`${year}: exactly the published early closes`, () => {
      expect(weekdaysOf(Number(year)).filter((d) => cal.isEarlyClose(d))).toEqual(expected.early);
      for (const d of expected.early) expect(cal.isTradingDay(d)).toBe(true);
    });
  }

  it('names the holidays; one-offs are "Closure"', () => {
    expect(Object.fromEntries([...holidaysOfYear(2027)])).toEqual({
      '2027-01-01': "New Year's Day",
      '2027-01-18': 'Martin Luther King Jr. Day',
      '2027-02-15': "Washington's Birthday",
      '2027-03-26': 'Good Friday',
      '2027-05-31': 'Memorial Day',
      '2027-06-18': 'Juneteenth National Independence Day',
      '2027-07-05': 'Independence Day',
      '2027-09-06': 'Labor Day',
      '2027-11-25': 'Thanksgiving Day',
      '2027-12-24': 'Christmas Day',
    });
    expect(cal.holidayOn('2025-01-09')).toBe('Closure');
    expect(cal.holidayOn('2025-01-10')).toBeNull();
    expect(cal.holidayOn('2026-07-04')).toBeNull(); // the Saturday itself: the closure is on Friday
    expect(cal.holidayOn('2026-07-03')).toBe('Independence Day');
  });
});

describe('observance rules in other years', () => {
  it('New Year on a Saturday is not moved to Friday Dec 31; on a Sunday it moves to Monday', () => {
    expect(cal.isTradingDay('2021-12-31')).toBe(true);
    expect(cal.isTradingDay('2027-12-31')).toBe(true);
    expect(cal.isTradingDay('2022-01-03')).toBe(true);
    expect(cal.holidayOn('2017-01-02')).toBe("New Year's Day"); // Jan 1 2017 was a Sunday
    expect(cal.holidayOn('2023-01-02')).toBe("New Year's Day");
  });

  it('Juneteenth from 2022 only, moved off weekends', () => {
    expect(cal.isTradingDay('2021-06-18')).toBe(true);
    expect(cal.holidayOn('2022-06-20')).toBe('Juneteenth National Independence Day'); // June 19 2022: Sunday
    expect(cal.holidayOn('2033-06-20')).toBe('Juneteenth National Independence Day'); // June 19 2033: Sunday
  });

  it('Independence Day and Christmas on weekends; early closes only Monday–Thursday', () => {
    expect(cal.holidayOn('2021-07-05')).toBe('Independence Day'); // July 4 2021: Sunday
    expect(cal.isEarlyClose('2021-07-02')).toBe(false);
    expect(cal.holidayOn('2020-07-03')).toBe('Independence Day'); // July 4 2020: Saturday
    expect(cal.isEarlyClose('2023-07-03')).toBe(true); // Monday
    expect(cal.isEarlyClose('2019-07-03')).toBe(true); // Wednesday
    expect(cal.holidayOn('2021-12-24')).toBe('Christmas Day'); // Dec 25 2021: Saturday
    expect(cal.isEarlyClose('2021-12-23')).toBe(false);
    expect(cal.holidayOn('2022-12-26')).toBe('Christmas Day'); // Dec 25 2022: Sunday
    expect(cal.isEarlyClose('2020-12-24')).toBe(true); // Thursday
    expect(cal.isEarlyClose('2021-11-26')).toBe(true); // day after Thanksgiving
  });

  it('built-in one-off closures since 2000', () => {
    for (const d of ['2001-09-11', '2001-09-12', '2001-09-13', '2001-09-14', '2004-06-11', '2007-01-02', '2012-10-29', '2012-10-30', '2018-12-05', '2025-01-09']) {
      expect(cal.isTradingDay(d), d).toBe(false);
      expect(KNOWN_ONE_OFF_CLOSURES[d], d).toBeTruthy();
    }
    expect(cal.isTradingDay('2001-09-10')).toBe(true);
    expect(cal.isTradingDay('2001-09-17')).toBe(true);
    expect(cal.isTradingDay('2012-10-31')).toBe(true);
  });

  it('configured closures close the day and cancel an early close on it', () => {
    const custom = new MarketCalendar({ extraClosures: ['2026-03-02', '2026-11-27'] });
    expect(custom.isTradingDay('2026-03-02')).toBe(false);
    expect(custom.holidayOn('2026-03-02')).toBe('Closure');
    expect(custom.isEarlyClose('2026-11-27')).toBe(false);
    expect(custom.sessionOn('2026-11-27', 'regular')).toBeNull();
    // Another calendar is not affected.
    expect(cal.isTradingDay('2026-03-02')).toBe(true);
    expect(cal.isEarlyClose('2026-11-27')).toBe(true);
  });

  it('Easter by the Gregorian computus', () => {
    const known: Record<number, string> = {
      1943: '1943-04-25', // latest possible
      2000: '2000-04-23',
      2008: '2008-03-23',
      2011: '2011-04-24',
      2019: '2019-04-21',
      2038: '2038-04-25',
      2285: '2285-03-22', // earliest possible
    };
    for (const [year, date] of Object.entries(known)) expect(easterSunday(Number(year))).toBe(date);
  });
});

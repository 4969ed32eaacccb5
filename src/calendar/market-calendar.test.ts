import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { MarketCalendar, nyDate } from './index.ts';

const cal = new MarketCalendar();
const ny = (iso: string) => DateTime.fromISO(iso, { zone: 'America/New_York' }).toJSDate();

/** The exchange's published full-day closures and 13:00 early closes. */
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
};

function weekdaysOf(year: number): string[] {
  const out: string[] = [];
  for (let d = DateTime.fromObject({ year, month: 1, day: 1 }); d.year === year; d = d.plus({ days: 1 })) {
    if (d.weekday <= 5) out.push(d.toISODate()!);
  }
  return out;
}

describe('NYSE holidays and early closes 2024–2027 (published calendar)', () => {
  for (const [year, expected] of Object.entries(PUBLISHED)) {
    it(`${year}: exactly the published weekday closures`, () => {
      const closed = weekdaysOf(Number(year)).filter((d) => !cal.isTradingDay(d));
      expect(closed).toEqual(expected.holidays);
    });
    it(`${year}: exactly the published early closes`, () => {
      const early = weekdaysOf(Number(year)).filter((d) => cal.isEarlyClose(d));
      expect(early).toEqual(expected.early);
    });
  }

  it('does not observe New Year on a Saturday on the Friday before', () => {
    expect(cal.isTradingDay('2021-12-31')).toBe(true);
    expect(cal.isTradingDay('2027-12-31')).toBe(true);
    expect(cal.isTradingDay('2022-01-03')).toBe(true); // nor on the Monday after
  });

  it('has no Juneteenth before 2022', () => {
    expect(cal.isTradingDay('2021-06-18')).toBe(true);
    expect(cal.holidayOn('2022-06-20')).toMatch(/Juneteenth/);
  });

  it('names holidays and takes configured one-off closures', () => {
    expect(cal.holidayOn('2026-11-26')).toBe('Thanksgiving Day');
    expect(cal.holidayOn('2026-04-03')).toBe('Good Friday');
    const custom = new MarketCalendar({ extraClosures: ['2026-03-02'] });
    expect(custom.isTradingDay('2026-03-02')).toBe(false);
    expect(custom.holidayOn('2026-03-02')).toBe('Closure');
    expect(cal.isTradingDay('2026-03-02')).toBe(true);
  });
});

describe('sessions', () => {
  it('regular 09:30–16:00 and extended 04:00–20:00 on a normal day', () => {
    expect(cal.sessionOn('2026-11-24', 'regular')).toEqual({ date: '2026-11-24', open: ny('2026-11-24T09:30'), close: ny('2026-11-24T16:00'), early_close: false });
    expect(cal.sessionOn('2026-11-24', 'extended')).toMatchObject({ open: ny('2026-11-24T04:00'), close: ny('2026-11-24T20:00') });
    expect(cal.isOpen(ny('2026-11-24T09:29:59'), 'regular')).toBe(false);
    expect(cal.isOpen(ny('2026-11-24T09:30'), 'regular')).toBe(true);
    expect(cal.isOpen(ny('2026-11-24T15:59:59'), 'regular')).toBe(true);
    expect(cal.isOpen(ny('2026-11-24T16:00'), 'regular')).toBe(false);
    expect(cal.isOpen(ny('2026-11-24T19:59'), 'extended')).toBe(true);
    expect(cal.isOpen(ny('2026-11-28T12:00'), 'always')).toBe(true);
  });

  it('early close at 13:00 regular and 17:00 extended', () => {
    expect(cal.sessionOn('2026-11-27', 'regular')).toMatchObject({ close: ny('2026-11-27T13:00'), early_close: true });
    expect(cal.sessionOn('2026-11-27', 'extended')).toMatchObject({ close: ny('2026-11-27T17:00'), early_close: true });
    expect(cal.isOpen(ny('2026-11-27T13:30'), 'regular')).toBe(false);
    expect(cal.currentSession(ny('2026-11-27T13:30'))).toBe('post');
  });

  it('phases of the day', () => {
    expect(cal.currentSession(ny('2026-11-24T03:59'))).toBe('closed');
    expect(cal.currentSession(ny('2026-11-24T04:00'))).toBe('pre');
    expect(cal.currentSession(ny('2026-11-24T10:00'))).toBe('regular');
    expect(cal.currentSession(ny('2026-11-24T16:30'))).toBe('post');
    expect(cal.currentSession(ny('2026-11-24T20:00'))).toBe('closed');
    expect(cal.currentSession(ny('2026-11-26T10:00'))).toBe('closed');
  });

  it('next open/close over a holiday and a weekend', () => {
    // Wednesday after the close → Thanksgiving closed → Friday (early close).
    expect(cal.nextOpen(ny('2026-11-25T16:30'))).toEqual(ny('2026-11-27T09:30'));
    expect(cal.nextClose(ny('2026-11-25T16:30'))).toEqual(ny('2026-11-27T13:00'));
    // Open now: next open is the following session's.
    expect(cal.nextOpen(ny('2026-11-27T10:00'))).toEqual(ny('2026-11-30T09:30'));
    expect(cal.nextClose(ny('2026-11-27T10:00'))).toEqual(ny('2026-11-27T13:00'));
    expect(cal.nextOpen(ny('2026-11-30T09:30'))).toEqual(ny('2026-11-30T09:30'));
  });

  it('sessionsBetween lists the windows overlapping the range', () => {
    const w = cal.sessionsBetween(ny('2026-11-25T12:00'), ny('2026-12-01T00:00'));
    expect(w.map((s) => s.date)).toEqual(['2026-11-25', '2026-11-27', '2026-11-30']);
    expect(w[1]!.early_close).toBe(true);
  });

  it('status() is the market-status body', () => {
    expect(cal.status(ny('2026-11-26T11:00'))).toEqual({
      open: false,
      session: 'closed',
      now: ny('2026-11-26T11:00').toISOString(),
      next_open: ny('2026-11-27T09:30').toISOString(),
      next_close: ny('2026-11-27T13:00').toISOString(),
      early_close: false,
      holiday: 'Thanksgiving Day',
    });
    expect(cal.status(ny('2026-11-27T10:00'))).toMatchObject({ open: true, session: 'regular', early_close: true });
  });
});

describe('DST edges', () => {
  it('spring forward: Sunday 2026-03-08 closed; Monday opens 09:30 EDT = 13:30Z', () => {
    expect(cal.isTradingDay('2026-03-08')).toBe(false);
    expect(cal.nextOpen(new Date('2026-03-07T12:00:00Z')).toISOString()).toBe('2026-03-09T13:30:00.000Z');
    expect(cal.sessionOn('2026-03-06', 'regular')!.open.toISOString()).toBe('2026-03-06T14:30:00.000Z');
    expect(cal.sessionOn('2026-03-09', 'regular')!.close.toISOString()).toBe('2026-03-09T20:00:00.000Z');
    expect(cal.sessionOn('2026-03-09', 'extended')!.open.toISOString()).toBe('2026-03-09T08:00:00.000Z');
  });

  it('fall back: Sunday 2026-11-01 closed; Monday opens 09:30 EST = 14:30Z', () => {
    expect(cal.isTradingDay('2026-11-01')).toBe(false);
    expect(cal.nextOpen(new Date('2026-10-31T12:00:00Z')).toISOString()).toBe('2026-11-02T14:30:00.000Z');
    expect(cal.sessionOn('2026-10-30', 'regular')!.open.toISOString()).toBe('2026-10-30T13:30:00.000Z');
    expect(cal.sessionOn('2026-11-02', 'regular')!.close.toISOString()).toBe('2026-11-02T21:00:00.000Z');
    // The repeated 01:00–02:00 hour maps to one New York date.
    expect(nyDate(new Date('2026-11-01T05:30:00Z'))).toBe('2026-11-01');
    expect(nyDate(new Date('2026-11-01T06:30:00Z'))).toBe('2026-11-01');
  });
});

describe('property: 2020–2030', () => {
  it('every open instant is a weekday, not a holiday, inside the session; next open/close are consistent', () => {
    const start = Date.parse('2020-01-01T00:00:00Z');
    const end = Date.parse('2031-01-01T00:00:00Z');
    const step = 97 * 60_000 + 13_000; // not a divisor of a day, so samples drift across every time of day
    let openCount = 0;
    for (let t = start; t < end; t += step) {
      const at = new Date(t);
      const local = DateTime.fromMillis(t, { zone: 'America/New_York' });
      const date = local.toISODate()!;
      for (const session of ['regular', 'extended'] as const) {
        if (!cal.isOpen(at, session)) continue;
        openCount++;
        expect(local.weekday).toBeLessThanOrEqual(5);
        expect(cal.holidayOn(date)).toBeNull();
        const minutes = local.hour * 60 + local.minute;
        const [lo, hi] = session === 'regular' ? [570, cal.isEarlyClose(date) ? 780 : 960] : [240, cal.isEarlyClose(date) ? 1020 : 1200];
        expect(minutes).toBeGreaterThanOrEqual(lo);
        expect(minutes).toBeLessThan(hi);
      }
      if (t % (step * 7) === start % (step * 7)) {
        const next = cal.nextOpen(at);
        expect(next.getTime()).toBeGreaterThanOrEqual(t);
        expect(cal.isOpen(next, 'regular')).toBe(true);
        const close = cal.nextClose(at);
        expect(close.getTime()).toBeGreaterThan(t);
        if (!cal.isOpen(at, 'regular')) {
          // Closed now: nothing is open between now and the next open.
          expect(next.getTime()).toBeLessThan(close.getTime());
          const mid = new Date(Math.floor((t + next.getTime()) / 2));
          expect(mid.getTime() >= next.getTime() || !cal.isOpen(mid, 'regular')).toBe(true);
        }
      }
    }
    expect(openCount).toBeGreaterThan(5_000);
  });
});

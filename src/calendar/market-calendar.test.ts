import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { ALWAYS_OPEN_UNTIL, MarketCalendar, nyDate } from './index.ts';

const cal = new MarketCalendar();
/** A New York wall-clock time as an instant. */
const ny = (iso: string) => DateTime.fromISO(iso, { zone: 'America/New_York' }).toJSDate();

describe('sessions', () => {
  it('regular 09:30–16:00 and extended 04:00–20:00 on a normal day, close exclusive', () => {
    expect(cal.sessionOn('2026-11-24', 'regular')).toEqual({ date: '2026-11-24', open: ny('2026-11-24T09:30'), close: ny('2026-11-24T16:00'), early_close: false });
    expect(cal.sessionOn('2026-11-24', 'extended')).toEqual({ date: '2026-11-24', open: ny('2026-11-24T04:00'), close: ny('2026-11-24T20:00'), early_close: false });
    expect(cal.isOpen(ny('2026-11-24T09:29:59.999'), 'regular')).toBe(false);
    expect(cal.isOpen(ny('2026-11-24T09:30'), 'regular')).toBe(true);
    expect(cal.isOpen(ny('2026-11-24T15:59:59.999'), 'regular')).toBe(true);
    expect(cal.isOpen(ny('2026-11-24T16:00'), 'regular')).toBe(false);
    expect(cal.isOpen(ny('2026-11-24T03:59'), 'extended')).toBe(false);
    expect(cal.isOpen(ny('2026-11-24T19:59'), 'extended')).toBe(true);
    expect(cal.isOpen(ny('2026-11-24T20:00'), 'extended')).toBe(false);
  });

  it('closed on weekends and holidays', () => {
    expect(cal.sessionOn('2026-11-28', 'regular')).toBeNull(); // Saturday
    expect(cal.sessionOn('2026-11-26', 'extended')).toBeNull(); // Thanksgiving
    expect(cal.isOpen(ny('2026-11-26T10:00'), 'regular')).toBe(false);
    expect(cal.isOpen(ny('2026-11-28T05:00'), 'extended')).toBe(false);
  });

  it('early close at 13:00 regular and 17:00 extended', () => {
    expect(cal.sessionOn('2026-11-27', 'regular')).toMatchObject({ open: ny('2026-11-27T09:30'), close: ny('2026-11-27T13:00'), early_close: true });
    expect(cal.sessionOn('2026-11-27', 'extended')).toMatchObject({ open: ny('2026-11-27T04:00'), close: ny('2026-11-27T17:00'), early_close: true });
    expect(cal.isOpen(ny('2026-11-27T12:59'), 'regular')).toBe(true);
    expect(cal.isOpen(ny('2026-11-27T13:00'), 'regular')).toBe(false);
    expect(cal.isOpen(ny('2026-11-27T16:59'), 'extended')).toBe(true);
    expect(cal.isOpen(ny('2026-11-27T17:00'), 'extended')).toBe(false);
  });

  it('returns copies: callers cannot shift the cached bounds', () => {
    cal.sessionOn('2026-11-24', 'regular')!.open.setTime(0);
    expect(cal.sessionOn('2026-11-24', 'regular')!.open).toEqual(ny('2026-11-24T09:30'));
  });
});

describe('currentSession', () => {
  it.each([
    ['2026-11-24T03:59:59', 'closed'],
    ['2026-11-24T04:00', 'pre'],
    ['2026-11-24T09:29', 'pre'],
    ['2026-11-24T09:30', 'regular'],
    ['2026-11-24T15:59', 'regular'],
    ['2026-11-24T16:00', 'post'],
    ['2026-11-24T19:59', 'post'],
    ['2026-11-24T20:00', 'closed'],
    ['2026-11-27T12:59', 'regular'], // early close
    ['2026-11-27T13:00', 'post'],
    ['2026-11-27T16:59', 'post'],
    ['2026-11-27T17:00', 'closed'],
    ['2026-11-26T10:00', 'closed'], // holiday
    ['2026-11-28T10:00', 'closed'], // Saturday
  ])('%s is %s', (at, phase) => {
    expect(cal.currentSession(ny(at))).toBe(phase);
  });
});

describe('nextOpen / nextClose / nextSessionWindow', () => {
  it('skips a holiday and lands on an early close', () => {
    // Wednesday after the close → Thanksgiving → Friday 09:30–13:00.
    expect(cal.nextOpen(ny('2026-11-25T16:30'))).toEqual(ny('2026-11-27T09:30'));
    expect(cal.nextClose(ny('2026-11-25T16:30'))).toEqual(ny('2026-11-27T13:00'));
    expect(cal.nextSessionWindow(ny('2026-11-25T16:30'), 'regular')).toEqual({ date: '2026-11-27', open: ny('2026-11-27T09:30'), close: ny('2026-11-27T13:00'), early_close: true });
  });

  it('when open (the open itself included) the next open is the following session', () => {
    expect(cal.nextOpen(ny('2026-11-27T10:00'))).toEqual(ny('2026-11-30T09:30'));
    expect(cal.nextOpen(ny('2026-11-30T09:30'))).toEqual(ny('2026-12-01T09:30'));
    expect(cal.nextOpen(ny('2026-11-30T09:29:59.999'))).toEqual(ny('2026-11-30T09:30'));
    expect(cal.nextClose(ny('2026-11-27T10:00'))).toEqual(ny('2026-11-27T13:00'));
    expect(cal.nextSessionWindow(ny('2026-11-27T10:00'), 'regular').date).toBe('2026-11-27');
  });

  it('at the close the session is over', () => {
    expect(cal.nextClose(ny('2026-11-24T16:00'))).toEqual(ny('2026-11-25T16:00'));
    expect(cal.nextSessionWindow(ny('2026-11-24T16:00'), 'regular').date).toBe('2026-11-25');
    expect(cal.nextClose(ny('2026-11-24T15:59:59.999'))).toEqual(ny('2026-11-24T16:00'));
  });

  it('extended session: after hours → next pre-market', () => {
    expect(cal.nextOpen(ny('2026-11-24T19:00'), 'extended')).toEqual(ny('2026-11-25T04:00'));
    expect(cal.nextClose(ny('2026-11-24T19:00'), 'extended')).toEqual(ny('2026-11-24T20:00'));
    expect(cal.nextOpen(ny('2026-11-24T20:00'), 'extended')).toEqual(ny('2026-11-25T04:00'));
    expect(cal.nextClose(ny('2026-11-25T21:00'), 'extended')).toEqual(ny('2026-11-27T17:00'));
  });

  it('crosses the 9/11 closure', () => {
    expect(cal.nextOpen(ny('2001-09-10T16:00'))).toEqual(ny('2001-09-17T09:30'));
  });

  it('a year-long configured closure still resolves; an impossible one says so', () => {
    const days: string[] = []; // every date of 2030 and 2031
    for (let d = DateTime.fromISO('2030-01-01'); d.year < 2032; d = d.plus({ days: 1 })) days.push(d.toISODate()!);
    const closed = new MarketCalendar({ extraClosures: days.slice(0, 300) });
    expect(closed.nextOpen(ny('2029-12-31T17:00'))).toEqual(ny(`${days[300]}T09:30`)); // 2030-10-28, a Monday
    const never = new MarketCalendar({ extraClosures: days });
    expect(() => never.nextOpen(ny('2029-12-31T17:00'))).toThrow(/no regular session within/);
  });
});

describe('sessionsBetween', () => {
  it('lists every window overlapping [from, to)', () => {
    const w = cal.sessionsBetween(ny('2026-11-25T12:00'), ny('2026-12-01T00:00'));
    expect(w.map((s) => s.date)).toEqual(['2026-11-25', '2026-11-27', '2026-11-30']);
    expect(w.map((s) => s.early_close)).toEqual([false, true, false]);
    expect(w[1]).toEqual({ date: '2026-11-27', open: ny('2026-11-27T09:30'), close: ny('2026-11-27T13:00'), early_close: true });
  });

  it('half-open range: touching a close or an open is no overlap', () => {
    expect(cal.sessionsBetween(ny('2026-11-24T16:00'), ny('2026-11-25T09:30'))).toEqual([]);
    expect(cal.sessionsBetween(ny('2026-11-24T15:59'), ny('2026-11-25T09:31')).map((s) => s.date)).toEqual(['2026-11-24', '2026-11-25']);
    expect(cal.sessionsBetween(ny('2026-11-25T10:00'), ny('2026-11-25T10:00'))).toEqual([]);
    expect(cal.sessionsBetween(ny('2026-11-25T10:00'), ny('2026-11-24T10:00'))).toEqual([]);
  });

  it('extended windows, and ranges across a DST change', () => {
    const w = cal.sessionsBetween(ny('2026-03-06T19:00'), ny('2026-03-09T05:00'), 'extended');
    expect(w.map((s) => [s.date, s.open.toISOString(), s.close.toISOString()])).toEqual([
      ['2026-03-06', '2026-03-06T09:00:00.000Z', '2026-03-07T01:00:00.000Z'],
      ['2026-03-09', '2026-03-09T08:00:00.000Z', '2026-03-10T00:00:00.000Z'],
    ]);
  });
});

describe('status (GET /api/market/status body)', () => {
  it('on a holiday', () => {
    expect(cal.status(ny('2026-11-26T11:00'))).toEqual({
      open: false,
      session: 'closed',
      now: ny('2026-11-26T11:00').toISOString(),
      next_open: ny('2026-11-27T09:30').toISOString(),
      next_close: ny('2026-11-27T13:00').toISOString(),
      early_close: false,
      holiday: 'Thanksgiving Day',
    });
  });

  it('open on an early-close day', () => {
    expect(cal.status(ny('2026-11-27T10:00'))).toEqual({
      open: true,
      session: 'regular',
      now: '2026-11-27T15:00:00.000Z',
      next_open: '2026-11-30T14:30:00.000Z',
      next_close: '2026-11-27T18:00:00.000Z',
      early_close: true,
    });
  });

  it('pre-market, post-market, weekend and one-off closure', () => {
    expect(cal.status(ny('2026-11-24T08:00'))).toMatchObject({ open: false, session: 'pre', next_open: ny('2026-11-24T09:30').toISOString(), next_close: ny('2026-11-24T16:00').toISOString() });
    expect(cal.status(ny('2026-11-27T14:00'))).toMatchObject({ open: false, session: 'post', early_close: true, next_open: ny('2026-11-30T09:30').toISOString() });
    const weekend = cal.status(ny('2026-11-28T12:00'));
    expect(weekend).toMatchObject({ open: false, session: 'closed', early_close: false });
    expect(weekend).not.toHaveProperty('holiday');
    expect(cal.status(ny('2025-01-09T10:00'))).toMatchObject({ open: false, holiday: 'Closure', next_open: ny('2025-01-10T09:30').toISOString() });
  });
});

describe('the always session', () => {
  it('is open at every instant, weekends and holidays included', () => {
    expect(cal.isOpen(ny('2026-11-28T03:00'), 'always')).toBe(true);
    expect(cal.isOpen(ny('2026-12-25T12:00'), 'always')).toBe(true);
    expect(cal.nextOpen(ny('2026-12-25T12:00'), 'always')).toEqual(ny('2026-12-25T12:00'));
    expect(cal.nextClose(ny('2026-12-25T12:00'), 'always')).toEqual(ALWAYS_OPEN_UNTIL);
    expect(cal.nextSessionWindow(ny('2026-12-25T12:00'), 'always')).toEqual({ date: '2026-12-25', open: ny('2026-12-25T12:00'), close: ALWAYS_OPEN_UNTIL, early_close: false });
  });

  it('has a whole-day window on every date (23 h and 25 h on DST Sundays)', () => {
    expect(cal.sessionOn('2026-12-25', 'always')).toEqual({ date: '2026-12-25', open: ny('2026-12-25T00:00'), close: ny('2026-12-26T00:00'), early_close: false });
    const spring = cal.sessionOn('2026-03-08', 'always')!;
    expect(spring.close.getTime() - spring.open.getTime()).toBe(23 * 3600_000);
    const fall = cal.sessionOn('2026-11-01', 'always')!;
    expect(fall.close.getTime() - fall.open.getTime()).toBe(25 * 3600_000);
    expect(cal.sessionsBetween(ny('2026-11-27T12:00'), ny('2026-11-29T12:00'), 'always').map((s) => s.date)).toEqual(['2026-11-27', '2026-11-28', '2026-11-29']);
  });
});

describe('DST edges', () => {
  it('spring forward: Sunday 2026-03-08 closed; Monday opens 09:30 EDT = 13:30Z', () => {
    expect(cal.isTradingDay('2026-03-08')).toBe(false);
    expect(cal.sessionOn('2026-03-06', 'regular')!.open.toISOString()).toBe('2026-03-06T14:30:00.000Z');
    expect(cal.nextOpen(new Date('2026-03-06T21:00:00Z')).toISOString()).toBe('2026-03-09T13:30:00.000Z');
    expect(cal.nextOpen(new Date('2026-03-08T07:30:00Z')).toISOString()).toBe('2026-03-09T13:30:00.000Z'); // inside the skipped hour
    expect(cal.sessionOn('2026-03-09', 'regular')!.close.toISOString()).toBe('2026-03-09T20:00:00.000Z');
    expect(cal.sessionOn('2026-03-09', 'extended')!.open.toISOString()).toBe('2026-03-09T08:00:00.000Z');
    expect(cal.isOpen(new Date('2026-03-09T13:29:59Z'), 'regular')).toBe(false);
    expect(cal.isOpen(new Date('2026-03-09T13:30:00Z'), 'regular')).toBe(true);
  });

  it('fall back: Sunday 2026-11-01 closed; Monday opens 09:30 EST = 14:30Z', () => {
    expect(cal.isTradingDay('2026-11-01')).toBe(false);
    expect(cal.sessionOn('2026-10-30', 'regular')!.open.toISOString()).toBe('2026-10-30T13:30:00.000Z');
    expect(cal.nextOpen(new Date('2026-10-30T21:00:00Z')).toISOString()).toBe('2026-11-02T14:30:00.000Z');
    expect(cal.sessionOn('2026-11-02', 'regular')!.close.toISOString()).toBe('2026-11-02T21:00:00.000Z');
    expect(cal.isOpen(new Date('2026-11-02T13:30:00Z'), 'regular')).toBe(false); // 08:30 EST
    expect(cal.currentSession(new Date('2026-11-02T13:30:00Z'))).toBe('pre');
    expect(cal.isOpen(new Date('2026-11-02T14:30:00Z'), 'regular')).toBe(true);
    // Both passes through the repeated 01:00 hour belong to the same New York date.
    expect(nyDate(new Date('2026-11-01T05:30:00Z'))).toBe('2026-11-01');
    expect(nyDate(new Date('2026-11-01T06:30:00Z'))).toBe('2026-11-01');
    expect(nyDate(new Date('2026-11-01T03:59:59.999Z'))).toBe('2026-10-31');
    expect(nyDate(new Date('2026-11-01T04:00:00Z'))).toBe('2026-11-01');
    expect(nyDate(new Date('2026-11-02T04:59:59.999Z'))).toBe('2026-11-01');
    expect(nyDate(new Date('2026-11-02T05:00:00Z'))).toBe('2026-11-02');
  });
});

describe('input checks', () => {
  it('rejects malformed or impossible dates instead of calling them trading days', () => {
    for (const bad of ['2025-02-30', '2025-2-3', '20250203', '2025-02-03T10:00', '']) {
      expect(() => cal.isTradingDay(bad), bad).toThrow(RangeError);
      expect(() => cal.holidayOn(bad), bad).toThrow(RangeError);
      expect(() => cal.sessionOn(bad, 'regular'), bad).toThrow(RangeError);
      expect(() => cal.isEarlyClose(bad), bad).toThrow(RangeError);
    }
    expect(() => cal.isOpen(new Date(NaN), 'regular')).toThrow(RangeError);
  });

  it('rejects a mistyped configured closure at construction', () => {
    expect(() => new MarketCalendar({ extraClosures: ['2026-02-30'] })).toThrow(/2026-02-30/);
    expect(() => new MarketCalendar({ extraClosures: ['26-03-02'] })).toThrow(RangeError);
  });
});

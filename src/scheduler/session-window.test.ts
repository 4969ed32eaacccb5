import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { MarketCalendar } from '../calendar/index.ts';
import { lastDueInstant } from './catch-up.ts';
import { cronLastBefore, cronNext } from './cron-pattern.ts';
import { desiredSchedulers } from './desired-schedulers.ts';
import { parseScheduleText } from './schedule-file.ts';
import { armedWindow, nextFireInstant, type TimedEntry } from './session-window.ts';

const cal = new MarketCalendar();
const ny = (iso: string) => DateTime.fromISO(iso, { zone: 'America/New_York' }).toJSDate();
const ms = (iso: string) => ny(iso).getTime();
const NY = 'America/New_York';
const every = (m: number, market_hours: TimedEntry['market_hours'] = 'regular'): TimedEntry => ({ market_hours, every: m * 60_000, timezone: NY });
const cron = (pattern: string, market_hours: TimedEntry['market_hours'] = 'regular', timezone = NY): TimedEntry => ({ market_hours, cron: pattern, timezone });

describe('armedWindow for `every` (fake clock)', () => {
  // [name, now, entry, first run, session close, last slot]
  it.each([
    ['before the open on a normal day', '2026-11-24T08:00', every(5), '2026-11-24T09:30', '2026-11-24T16:00', '2026-11-24T15:55'],
    ['during the session: the next slot of the open-phased grid', '2026-11-24T11:02', every(5), '2026-11-24T11:05', '2026-11-24T16:00', '2026-11-24T15:55'],
    ['exactly on a slot', '2026-11-24T11:05', every(5), '2026-11-24T11:05', '2026-11-24T16:00', '2026-11-24T15:55'],
    ['after the last slot: the next session', '2026-11-24T15:55:00.001', every(5), '2026-11-25T09:30', '2026-11-25T16:00', '2026-11-25T15:55'],
    ['at the close: the next session', '2026-11-24T16:00', every(5), '2026-11-25T09:30', '2026-11-25T16:00', '2026-11-25T15:55'],
    ['on a holiday (Thanksgiving): the early-close day after', '2026-11-26T10:00', every(5), '2026-11-27T09:30', '2026-11-27T13:00', '2026-11-27T12:55'],
    ['on the early-close day after 13:00: Monday', '2026-11-27T13:00', every(5), '2026-11-30T09:30', '2026-11-30T16:00', '2026-11-30T15:55'],
    ['on a weekend: Monday', '2026-11-28T12:00', every(5), '2026-11-30T09:30', '2026-11-30T16:00', '2026-11-30T15:55'],
    ['spring-forward Sunday → Monday 09:30 EDT', '2026-03-08T12:00', every(5), '2026-03-09T09:30', '2026-03-09T16:00', '2026-03-09T15:55'],
    ['the Friday before spring-forward, after the close', '2026-03-06T16:30', every(15), '2026-03-09T09:30', '2026-03-09T16:00', '2026-03-09T15:45'],
    ['fall-back Sunday → Monday 09:30 EST', '2026-11-01T12:00', every(5), '2026-11-02T09:30', '2026-11-02T16:00', '2026-11-02T15:55'],
    ['fall-back Monday mid-session', '2026-11-02T10:01', every(30), '2026-11-02T10:30', '2026-11-02T16:00', '2026-11-02T15:30'],
    ['an interval that does not divide the session', '2026-11-24T08:00', every(7), '2026-11-24T09:30', '2026-11-24T16:00', '2026-11-24T15:55'],
    ['an interval longer than the session: one run at the open', '2026-11-24T08:00', every(24 * 60), '2026-11-24T09:30', '2026-11-24T16:00', '2026-11-24T09:30'],
    ['extended on the early-close day', '2026-11-27T03:00', every(30, 'extended'), '2026-11-27T04:00', '2026-11-27T17:00', '2026-11-27T16:30'],
    ['extended on the spring-forward Monday', '2026-03-08T22:00', every(60, 'extended'), '2026-03-09T04:00', '2026-03-09T20:00', '2026-03-09T19:00'],
    ['extended on the fall-back Sunday', '2026-11-01T01:30', every(60, 'extended'), '2026-11-02T04:00', '2026-11-02T20:00', '2026-11-02T19:00'],
  ] as const)('%s', (_name, now, entry, first, close, lastSlot) => {
    const w = armedWindow(entry, cal, ny(now))!;
    expect(new Date(w.first).toISOString()).toBe(ny(first).toISOString());
    expect(w.startDate).toBe(w.first);
    expect(w.close).toBe(ms(close));
    // endDate sits 1 ms before the last slot: that slot's run adds nothing at or after the close.
    expect(w.endDate).toBe(ms(lastSlot) - 1);
    expect(w.endDate).toBeLessThan(w.close);
  });

  it('DST instants are exact in UTC', () => {
    expect(new Date(armedWindow(every(5), cal, ny('2026-03-08T12:00'))!.first).toISOString()).toBe('2026-03-09T13:30:00.000Z');
    expect(new Date(armedWindow(every(5), cal, ny('2026-03-06T12:00'))!.close).toISOString()).toBe('2026-03-06T21:00:00.000Z');
    expect(new Date(armedWindow(every(5), cal, ny('2026-11-01T12:00'))!.first).toISOString()).toBe('2026-11-02T14:30:00.000Z');
    expect(new Date(armedWindow(every(5), cal, ny('2026-10-30T12:00'))!.close).toISOString()).toBe('2026-10-30T20:00:00.000Z');
  });

  it('has no window for always', () => {
    expect(armedWindow(every(5, 'always'), cal, new Date())).toBeNull();
    expect(armedWindow(cron('* * * * *', 'always'), cal, new Date())).toBeNull();
  });
});

describe('armedWindow for `cron` (real cron-parser through BullMQ)', () => {
  it('fires on the pattern instants inside the session, the first one at the open', () => {
    const w = armedWindow(cron('*/30 * * * *'), cal, ny('2026-11-24T08:00'))!;
    expect(w).toEqual({
      open: ms('2026-11-24T09:30'),
      close: ms('2026-11-24T16:00'),
      startDate: ms('2026-11-24T09:30') - 1,
      endDate: ms('2026-11-24T16:00') - 1,
      first: ms('2026-11-24T09:30'),
    });
  });

  it('an instant at the close is outside (the close belongs to the closed market)', () => {
    expect(armedWindow(cron('0 16 * * 1-5'), cal, ny('2026-11-24T08:00'))).toBeNull();
    expect(armedWindow(cron('0 16 * * 1-5', 'extended'), cal, ny('2026-11-24T08:00'))!.first).toBe(ms('2026-11-24T16:00'));
  });

  it('after the last instant of a session: the next session that has one', () => {
    expect(armedWindow(cron('*/30 * * * *'), cal, ny('2026-11-24T15:45'))!.first).toBe(ms('2026-11-25T09:30'));
    // 13:00 is the early close on 2026-11-27, so a 13:00 pattern next fires on Monday.
    expect(armedWindow(cron('0 13 * * *'), cal, ny('2026-11-27T10:00'))!.first).toBe(ms('2026-11-30T13:00'));
    // Thanksgiving has no session at all.
    expect(armedWindow(cron('0 10 * * *'), cal, ny('2026-11-25T11:00'))!.first).toBe(ms('2026-11-27T10:00'));
  });

  it('interprets the pattern in its own time zone across the US/UK DST gap', () => {
    const london = cron('0 15 * * 1-5', 'regular', 'Europe/London');
    // Before 2026-03-08 both are on standard time: London 15:00 = New York 10:00.
    expect(new Date(armedWindow(london, cal, ny('2026-03-06T08:00'))!.first).toISOString()).toBe('2026-03-06T15:00:00.000Z');
    // The US moved on 03-08, the UK moves on 03-29: London 15:00 = New York 11:00 on Monday 03-09.
    const monday = armedWindow(london, cal, ny('2026-03-08T12:00'))!;
    expect(new Date(monday.first).toISOString()).toBe('2026-03-09T15:00:00.000Z');
    expect(DateTime.fromMillis(monday.first, { zone: NY }).hour).toBe(11);
  });

  it('spring-forward and fall-back weekends end on the Monday open', () => {
    expect(new Date(armedWindow(cron('*/15 * * * *'), cal, ny('2026-03-08T01:30'))!.first).toISOString()).toBe('2026-03-09T13:30:00.000Z');
    expect(new Date(armedWindow(cron('*/15 * * * *'), cal, ny('2026-11-01T01:30'))!.first).toISOString()).toBe('2026-11-02T14:30:00.000Z');
  });

  it('six-field patterns (seconds) work', () => {
    expect(armedWindow(cron('30 */10 * * * *'), cal, ny('2026-11-24T09:31'))!.first).toBe(ms('2026-11-24T09:40:30'));
  });

  it('a pattern that never meets the session has no window', () => {
    expect(armedWindow(cron('0 3 * * *'), cal, ny('2026-11-24T08:00'))).toBeNull();
  });
});

describe('cron helpers', () => {
  it('cronNext is strict and cronLastBefore finds the last instant before a bound', () => {
    expect(cronNext('*/30 * * * *', NY, ms('2026-11-24T09:30'))).toBe(ms('2026-11-24T10:00'));
    expect(cronLastBefore('*/30 * * * *', NY, ms('2026-11-24T08:00'), ms('2026-11-24T11:07'))).toBe(ms('2026-11-24T11:00'));
    expect(cronLastBefore('*/30 * * * *', NY, ms('2026-11-24T08:00'), ms('2026-11-24T11:00'))).toBe(ms('2026-11-24T10:30'));
    expect(cronLastBefore('0 9 * * *', NY, ms('2026-11-24T10:00'), ms('2026-11-24T11:00'))).toBeNull();
  });
});

describe('nextFireInstant', () => {
  it('applies the calendar to gated schedules', () => {
    expect(nextFireInstant(every(5), cal, ny('2026-11-26T10:00'))).toBe(ms('2026-11-27T09:30'));
    expect(nextFireInstant(cron('0 13 * * *'), cal, ny('2026-11-27T10:00'))).toBe(ms('2026-11-30T13:00'));
  });
  it('follows BullMQ for always schedules: at once when not armed, else on its phase', () => {
    expect(nextFireInstant(every(1, 'always'), cal, new Date(600_500))).toBe(600_500);
    expect(nextFireInstant(every(1, 'always'), cal, new Date(600_500), 2_000)).toBe(602_000);
    expect(nextFireInstant(every(1, 'always'), cal, new Date(602_000), 2_000)).toBe(602_000);
    expect(nextFireInstant(cron('0 3 * * *', 'always'), cal, ny('2026-11-24T08:00'))).toBe(ms('2026-11-25T03:00'));
  });
});

describe('lastDueInstant (catch-up)', () => {
  const e = every(5);
  it('is the last slot of the session before now', () => {
    expect(lastDueInstant(e, cal, ms('2026-11-24T11:07'), 3_600_000)).toBe(ms('2026-11-24T11:05'));
    expect(lastDueInstant(e, cal, ms('2026-11-24T11:05'), 3_600_000)).toBe(ms('2026-11-24T11:00'));
  });
  it('after the close it is the last slot before the close, if young enough', () => {
    expect(lastDueInstant(e, cal, ms('2026-11-24T16:20'), 3_600_000)).toBe(ms('2026-11-24T15:55'));
    expect(lastDueInstant(e, cal, ms('2026-11-24T18:00'), 3_600_000)).toBeNull();
  });
  it('looks across a holiday and an early close', () => {
    expect(lastDueInstant(e, cal, ms('2026-11-26T10:00'), 12 * 3_600_000)).toBeNull();
    expect(lastDueInstant(e, cal, ms('2026-11-26T10:00'), 24 * 3_600_000)).toBe(ms('2026-11-25T15:55'));
    expect(lastDueInstant(e, cal, ms('2026-11-27T14:00'), 2 * 3_600_000)).toBe(ms('2026-11-27T12:55'));
  });
  it('cron schedules: the last pattern instant inside the session', () => {
    expect(lastDueInstant(cron('*/30 * * * *'), cal, ms('2026-11-24T16:20'), 3_600_000)).toBe(ms('2026-11-24T15:30'));
    expect(lastDueInstant(cron('0 * * * *', 'always'), cal, ms('2026-11-24T16:20'), 3_600_000)).toBe(ms('2026-11-24T16:00'));
    expect(lastDueInstant(cron('0 * * * *', 'always'), cal, ms('2026-11-24T16:20'), 10 * 60_000)).toBeNull();
  });
  it('always schedules follow the epoch phase plus offset', () => {
    expect(lastDueInstant(every(1, 'always'), cal, 10 * 60_000 + 5_000, 120_000, 2_000)).toBe(10 * 60_000 + 2_000);
  });
});

describe('desiredSchedulers', () => {
  it('windows every gated scheduler and leaves always ones plain', () => {
    const set = parseScheduleText(`schedules:
  - { id: a, agent: quant, tickers: [SPY, TSLA], every: 5m, market_hours: regular }
  - { id: b, agent: quant, ticker: AAPL, cron: "*/30 * * * *", market_hours: extended }
  - { id: c, agent: quant, ticker: QQQ, every: 1m, market_hours: always }
`);
    const d = desiredSchedulers(set, new Set(), cal, ny('2026-11-24T08:00'));
    expect(d.map((x) => x.key)).toEqual(['a:SPY', 'a:TSLA', 'b:AAPL', 'c:QQQ']);
    expect(d[0]!.repeat).toEqual({ every: 300_000, startDate: ms('2026-11-24T09:30'), endDate: ms('2026-11-24T15:55') - 1 });
    expect(d[2]!.repeat).toEqual({ pattern: '*/30 * * * *', tz: NY, startDate: ms('2026-11-24T04:00') - 1, endDate: ms('2026-11-24T20:00') - 1 });
    expect(d[3]!.repeat).toEqual({ every: 60_000 });
    expect(d[0]!.template.data).toMatchObject({ interval_ms: 300_000, overlap: 'skip', catch_up_ms: null, market_hours: 'regular' });
    // The template carries no timestamp: planned again later in the session, only the start slot moves.
    const later = desiredSchedulers(set, new Set(), cal, ny('2026-11-24T10:02'));
    expect(later[0]!.template).toEqual(d[0]!.template);
    expect(later[0]!.repeat.endDate).toBe(d[0]!.repeat.endDate);
    expect(later[0]!.repeat.startDate).toBe(ms('2026-11-24T10:05'));
  });

  it('skips paused and disabled schedules', () => {
    const set = parseScheduleText(`schedules:
  - { id: a, agent: quant, ticker: SPY, every: 5m }
  - { id: b, agent: quant, ticker: SPY, every: 5m, enabled: false }
  - { id: c, agent: quant, ticker: SPY, every: 5m }
`);
    expect(desiredSchedulers(set, new Set(['c']), cal, ny('2026-11-24T08:00')).map((x) => x.key)).toEqual(['a:SPY']);
  });
});

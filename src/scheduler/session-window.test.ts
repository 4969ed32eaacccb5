import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { MarketCalendar } from '../calendar/index.ts';
import { lastDueInstant } from './catch-up.ts';
import { desiredSchedulers } from './desired-schedulers.ts';
import { parseScheduleText } from './schedule-file.ts';
import { armedWindow } from './session-window.ts';

const cal = new MarketCalendar();
const ny = (iso: string) => DateTime.fromISO(iso, { zone: 'America/New_York' }).toJSDate();
const ms = (iso: string) => ny(iso).getTime();

describe('armedWindow (fake clock)', () => {
  it.each([
    ['before the open on a normal day', '2026-11-24T08:00', 'regular', '2026-11-24T09:30', '2026-11-24T16:00'],
    ['during the session: the current window', '2026-11-24T11:00', 'regular', '2026-11-24T09:30', '2026-11-24T16:00'],
    ['after the close: the next day', '2026-11-24T16:00', 'regular', '2026-11-25T09:30', '2026-11-25T16:00'],
    ['on a holiday: the early-close day after', '2026-11-26T10:00', 'regular', '2026-11-27T09:30', '2026-11-27T13:00'],
    ['extended on an early close', '2026-11-27T03:00', 'extended', '2026-11-27T04:00', '2026-11-27T17:00'],
    ['on a weekend: Monday', '2026-11-28T12:00', 'regular', '2026-11-30T09:30', '2026-11-30T16:00'],
    ['spring-forward Sunday → Monday 09:30 EDT', '2026-03-08T12:00', 'regular', '2026-03-09T09:30', '2026-03-09T16:00'],
    ['fall-back Sunday → Monday 09:30 EST', '2026-11-01T12:00', 'regular', '2026-11-02T09:30', '2026-11-02T16:00'],
  ] as const)('%s', (_name, now, session, open, close) => {
    expect(armedWindow({ market_hours: session }, cal, ny(now))).toEqual({ startDate: ms(open), endDate: ms(close) - 1 });
  });

  it('DST instants are exact in UTC', () => {
    expect(new Date(armedWindow({ market_hours: 'regular' }, cal, ny('2026-03-08T12:00'))!.startDate).toISOString()).toBe('2026-03-09T13:30:00.000Z');
    expect(new Date(armedWindow({ market_hours: 'regular' }, cal, ny('2026-11-01T12:00'))!.startDate).toISOString()).toBe('2026-11-02T14:30:00.000Z');
  });

  it('has no window for always', () => {
    expect(armedWindow({ market_hours: 'always' }, cal, new Date())).toBeNull();
  });

  it('windows every gated scheduler and leaves always ones plain', () => {
    const set = parseScheduleText(`schedules:
  - { id: a, agent: quant, tickers: [SPY, TSLA], every: 5m, market_hours: regular }
  - { id: b, agent: quant, ticker: AAPL, cron: "*/30 * * * *", market_hours: extended }
  - { id: c, agent: quant, ticker: QQQ, every: 1m, market_hours: always }
`);
    const d = desiredSchedulers(set, new Set(), cal, ny('2026-11-24T08:00'));
    expect(d.map((x) => x.key)).toEqual(['a:SPY', 'a:TSLA', 'b:AAPL', 'c:QQQ']);
    expect(d[0]!.repeat).toEqual({ every: 300_000, startDate: ms('2026-11-24T09:30'), endDate: ms('2026-11-24T16:00') - 1 });
    expect(d[2]!.repeat).toEqual({ pattern: '*/30 * * * *', tz: 'America/New_York', startDate: ms('2026-11-24T04:00') - 1, endDate: ms('2026-11-24T20:00') - 1 });
    expect(d[3]!.repeat).toEqual({ every: 60_000 });
    expect(d[0]!.template.data).toMatchObject({ interval_ms: 300_000, overlap: 'skip', catch_up_ms: null, market_hours: 'regular' });
  });
});

describe('lastDueInstant (catch-up)', () => {
  const entry = { every: 300_000, market_hours: 'regular' as const };
  it('is the last slot of the session before now', () => {
    expect(lastDueInstant(entry, cal, ms('2026-11-24T11:07'), 3_600_000)).toBe(ms('2026-11-24T11:05'));
    expect(lastDueInstant(entry, cal, ms('2026-11-24T11:05'), 3_600_000)).toBe(ms('2026-11-24T11:00'));
  });
  it('after the close it is the last slot before the close, if young enough', () => {
    expect(lastDueInstant(entry, cal, ms('2026-11-24T16:20'), 3_600_000)).toBe(ms('2026-11-24T15:55'));
    expect(lastDueInstant(entry, cal, ms('2026-11-24T18:00'), 3_600_000)).toBeNull();
  });
  it('always schedules follow the epoch phase plus offset', () => {
    expect(lastDueInstant({ every: 60_000, market_hours: 'always' }, cal, 10 * 60_000 + 5_000, 120_000, 2_000)).toBe(10 * 60_000 + 2_000);
  });
});

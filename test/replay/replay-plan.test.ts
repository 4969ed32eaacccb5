import { describe, expect, it } from 'vitest';
import { MarketCalendar } from '../../src/calendar/index.ts';
import { BUILTIN_AGENTS, scheduleEntrySchema } from '../../src/core/index.ts';
import { planReplay, planSlots, ReplayRequestError, tradingDays } from '../../src/replay/index.ts';

const calendar = new MarketCalendar();
const later = new Date('2026-06-01T00:00:00Z');
const cron = (pattern: string, extra: object = {}) => scheduleEntrySchema.parse({ id: 'c', agent: 'quant', ticker: 'SPY', cron: pattern, ...extra });
const times = (slots: { date: string; as_of: string | null }[], date: string) => slots.filter((s) => s.date === date).map((s) => s.as_of);

describe('replay day counts', () => {
  it('counts the NYSE sessions of 2025 and of a month around Thanksgiving', () => {
    // 2025: 250 sessions (Jan 9 closed for the national day of mourning).
    expect(tradingDays(calendar, '2025-01-01', '2025-12-31')).toHaveLength(250);
    // November 2025: 20 weekdays, Thanksgiving (27th) closed, the 28th an early close but a session.
    const nov = tradingDays(calendar, '2025-11-01', '2025-11-30');
    expect(nov).toHaveLength(19);
    expect(nov).not.toContain('2025-11-27');
    expect(nov).toContain('2025-11-28');
    // One cycle per session close without a schedule.
    expect(planSlots(calendar, { from: '2025-11-01', to: '2025-11-30' }, null, later)).toHaveLength(19);
    // A range of weekend and holiday only has none.
    expect(tradingDays(calendar, '2025-12-25', '2025-12-28')).toEqual(['2025-12-26']);
  });
});

describe('cron schedule slots', () => {
  it('plans the pattern inside each session: none on a holiday, none after an early close', () => {
    // 10:00, 12:00, 14:00 New York on weekdays; Dec 24 closes at 13:00, Dec 25 is closed.
    const slots = planSlots(calendar, { from: '2025-12-23', to: '2025-12-26' }, cron('0 10,12,14 * * 1-5'), later);
    expect(times(slots, '2025-12-23')).toEqual(['2025-12-23T15:00:00.000Z', '2025-12-23T17:00:00.000Z', '2025-12-23T19:00:00.000Z']);
    expect(times(slots, '2025-12-24')).toEqual(['2025-12-24T15:00:00.000Z', '2025-12-24T17:00:00.000Z']);
    expect(times(slots, '2025-12-25')).toEqual([]);
    expect(times(slots, '2025-12-26')).toHaveLength(3);
    expect(slots).toHaveLength(8);
    // The day after Thanksgiving closes at 13:00 too.
    expect(times(planSlots(calendar, { from: '2025-11-28', to: '2025-11-28' }, cron('30 12,13 * * *'), later), '2025-11-28')).toEqual(['2025-11-28T17:30:00.000Z']);
  });

  it('counts an instant at the open and never one at the close; the pattern weekdays apply', () => {
    const slots = planSlots(calendar, { from: '2025-12-01', to: '2025-12-05' }, cron('30 9,16 * * 1,3'), later);
    // Monday and Wednesday at 09:30 (the open); 16:00 is the close, outside the session.
    expect(slots.map((s) => s.as_of)).toEqual(['2025-12-01T14:30:00.000Z', '2025-12-03T14:30:00.000Z']);
  });

  it('keeps New York wall-clock slots across the DST changes', () => {
    const pattern = cron('0 11 * * *');
    // Spring forward on Sunday 2025-03-09: 11:00 is 16:00Z on Friday, 15:00Z on Monday.
    const spring = planSlots(calendar, { from: '2025-03-07', to: '2025-03-10' }, pattern, later);
    expect(spring.map((s) => s.as_of)).toEqual(['2025-03-07T16:00:00.000Z', '2025-03-10T15:00:00.000Z']);
    // Fall back on Sunday 2025-11-02: 15:00Z on Friday, 16:00Z on Monday.
    const fall = planSlots(calendar, { from: '2025-10-31', to: '2025-11-03' }, pattern, later);
    expect(fall.map((s) => s.as_of)).toEqual(['2025-10-31T15:00:00.000Z', '2025-11-03T16:00:00.000Z']);
    // Every 30 minutes from the open: 13 slots either side of the change, the first at 09:30 New York.
    const every = planSlots(calendar, { from: '2025-03-07', to: '2025-03-10' }, scheduleEntrySchema.parse({ id: 'e', agent: 'quant', ticker: 'SPY', every: '30m' }), later);
    expect(times(every, '2025-03-07')).toHaveLength(13);
    expect(times(every, '2025-03-10')[0]).toBe('2025-03-10T13:30:00.000Z');
  });

  it('reads the pattern in the schedule time zone and plans the extended session for extended schedules', () => {
    // 15:00 in London is 10:00 in New York in December.
    expect(planSlots(calendar, { from: '2025-12-01', to: '2025-12-01' }, cron('0 15 * * *', { timezone: 'Europe/London' }), later).map((s) => s.as_of)).toEqual(['2025-12-01T15:00:00.000Z']);
    // 05:00 and 18:00 New York are outside the regular session, inside the extended one.
    expect(planSlots(calendar, { from: '2025-12-01', to: '2025-12-01' }, cron('0 5,18 * * *'), later)).toEqual([]);
    expect(planSlots(calendar, { from: '2025-12-01', to: '2025-12-01' }, cron('0 5,18 * * *', { market_hours: 'extended' }), later)).toHaveLength(2);
  });

  it('plans only slots that have passed, and refuses a pattern too dense to replay naming the schedule', () => {
    // At 12:30 New York on Dec 23 only the 10:00 and 12:00 slots have passed.
    expect(planSlots(calendar, { from: '2025-12-23', to: '2025-12-23' }, cron('0 10,12,14 * * *'), new Date('2025-12-23T17:30:00Z'))).toHaveLength(2);
    const ctx = { calendar, now: later, agents: BUILTIN_AGENTS, schedules: { dense: cron('*/10 * * * * *', { id: 'dense' }), hourly: cron('0 * * * *', { id: 'hourly' }) } };
    try {
      planReplay({ profiles: ['quant'], tickers: ['SPY'], from: '2025-12-01', to: '2025-12-01', schedule: 'dense' }, ctx);
      expect.unreachable();
    } catch (err) {
      expect((err as ReplayRequestError).details.map((d) => d.field)).toEqual(['schedule']);
    }
    // 10:00 … 15:00 on a full day: six slots, each with its instant as the point in time.
    const spec = planReplay({ profiles: ['quant'], tickers: ['SPY'], from: '2025-12-01', to: '2025-12-01', schedule: 'hourly' }, ctx);
    expect(spec.schedule_id).toBe('hourly');
    expect(spec.slots.map((s) => s.as_of)).toEqual(['15', '16', '17', '18', '19', '20'].map((h) => `2025-12-01T${h}:00:00.000Z`));
  });
});

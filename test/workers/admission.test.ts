import { describe, expect, it } from 'vitest';
import { MarketCalendar } from '../../src/calendar/index.ts';
import { BUILTIN_AGENTS, cycleJobDataSchema, type CycleJobInput } from '../../src/core/index.ts';
import { admit, dueTimeFromJobId, MIN_STALE_MS } from '../../src/tasks/index.ts';

const calendar = new MarketCalendar({ extraClosures: ['2026-03-02'] });
const data = (over: Partial<CycleJobInput> = {}) =>
  cycleJobDataSchema.parse({ agent: 'quant', ticker: 'SPY', trigger: 'schedule', schedule_id: 's', profile: BUILTIN_AGENTS.quant, ...over });
// Tuesday 2026-11-24 11:00 New York (16:00 UTC): a regular session is open.
const OPEN = Date.parse('2026-11-24T16:00:00Z');

describe('admission at job start', () => {
  it('reads the due time from a scheduled job id', () => {
    expect(dueTimeFromJobId('repeat:desk:SPY:1795531200000')).toBe(1795531200000);
    expect(dueTimeFromJobId('4b7d2c1e-uuid')).toBeNull();
  });

  it('admits a run due inside its session and started on time', () => {
    expect(admit(data({ market_hours: 'regular' }), OPEN, OPEN + 5_000, calendar)).toMatchObject({ admit: true });
  });

  it.each([
    ['Thanksgiving', '2026-11-26T16:00:00Z'],
    ['a Saturday', '2026-11-28T16:00:00Z'],
    ['before the open', '2026-11-24T14:00:00Z'],
    ['a configured one-off closure', '2026-03-02T16:00:00Z'],
  ])('skips a regular-hours run due on %s as market_closed', (_label, at) => {
    const due = Date.parse(at);
    expect(admit(data({ market_hours: 'regular' }), due, due + 1_000, calendar)).toMatchObject({ admit: false, reason: 'market_closed' });
  });

  it('checks the session of any job that names one, scheduled or not', () => {
    const due = Date.parse('2026-11-28T16:00:00Z');
    expect(admit(data({ trigger: 'api', schedule_id: null, market_hours: 'regular' }), due, due, calendar).reason).toBe('market_closed');
    expect(admit(data({ trigger: 'api', schedule_id: null, market_hours: 'always' }), due, due, calendar).admit).toBe(true);
  });

  it('skips a scheduled run that starts later than one interval (at least a minute) after it was due', () => {
    const hourly = data({ interval_ms: 3_600_000 });
    expect(admit(hourly, OPEN, OPEN + 3_500_000, calendar).admit).toBe(true);
    expect(admit(hourly, OPEN, OPEN + 3_700_000, calendar)).toMatchObject({ admit: false, reason: 'stale' });
    const everySecond = data({ interval_ms: 1_000 });
    expect(admit(everySecond, OPEN, OPEN + MIN_STALE_MS - 1, calendar).admit).toBe(true);
    expect(admit(everySecond, OPEN, OPEN + MIN_STALE_MS + 1, calendar).reason).toBe('stale');
  });

  it('a cron schedule has no interval: its default limit is the minute', () => {
    const cron = data({ interval_ms: null });
    expect(admit(cron, OPEN, OPEN + MIN_STALE_MS, calendar).admit).toBe(true);
    expect(admit(cron, OPEN, OPEN + MIN_STALE_MS + 1, calendar).reason).toBe('stale');
  });

  it('honours an explicit max_start_delay and lets catch_up cover a late run', () => {
    expect(admit(data({ max_start_delay_ms: 10_000 }), OPEN, OPEN + 11_000, calendar).reason).toBe('stale');
    const late = data({ interval_ms: 60_000, catch_up_ms: 4 * 3_600_000 });
    expect(admit(late, OPEN, OPEN + 3_600_000, calendar).admit).toBe(true);
    expect(admit(late, OPEN, OPEN + 5 * 3_600_000, calendar).reason).toBe('stale');
  });

  it('never calls an API or manual job stale unless it carries a limit', () => {
    expect(admit(data({ trigger: 'api', schedule_id: null }), OPEN, OPEN + 86_400_000, calendar).admit).toBe(true);
    expect(admit(data({ trigger: 'manual', max_start_delay_ms: 1_000 }), OPEN, OPEN + 2_000, calendar).reason).toBe('stale');
  });
});

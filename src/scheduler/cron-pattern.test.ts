import { defaultRepeatStrategy, getNextMillis } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { cronNext, memoRepeatStrategy } from './cron-pattern.ts';

describe('memoRepeatStrategy', () => {
  it('answers what BullMQ would, for any instant, across a DST change and inside windows', () => {
    let clock = Date.UTC(2026, 2, 6);
    const memo = memoRepeatStrategy(() => clock);
    const cases = [
      { pattern: '0 30 2 * * *', tz: 'America/New_York' }, // 02:30 does not exist on 2026-03-08
      { pattern: '15 10 * * 1-5', tz: 'America/New_York', startDate: Date.UTC(2026, 2, 9, 13, 30) - 1, endDate: Date.UTC(2026, 2, 9, 20) - 1 },
      { pattern: '*/7 * * * *', tz: 'UTC' },
    ];
    for (const opts of cases) {
      for (let t = Date.UTC(2026, 2, 6); t < Date.UTC(2026, 2, 10); t += 3_600_007) {
        clock = t;
        expect(memo(t, opts)).toBe(defaultRepeatStrategy(t, opts));
      }
    }
  });
});

describe('cronNext', () => {
  it('answers what BullMQ would whatever the order of questions (its answers are remembered)', () => {
    const base = Date.UTC(2026, 2, 6);
    const instants = Array.from({ length: 60 }, (_, i) => base + ((i * 7_919_993) % (4 * 86_400_000)));
    for (const [pattern, tz] of [['0 30 2 * * *', 'America/New_York'], ['*/7 * * * *', 'UTC'], ['15 10 * * 1-5', 'America/New_York']] as const) {
      for (const t of [...instants, ...instants.slice().reverse()]) expect(cronNext(pattern, tz, t)).toBe(getNextMillis(t, { pattern, tz }) ?? null);
    }
  });
});

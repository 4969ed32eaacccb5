import { defaultRepeatStrategy, type RepeatOptions, type RepeatStrategy } from 'bullmq';
import { CRON_MEMO_MS } from '../calendar/index.ts';

// The cron arithmetic lives with the calendar, so replays plan a schedule's slots with the very same
// functions the scheduler arms BullMQ with; the scheduler's files keep importing it from here.
export { cronNext, cronError, cronLastBefore } from '../calendar/index.ts';

/**
 * BullMQ's own repeat strategy, with the next instant of each (pattern, tz, window) remembered for a
 * minute: the next instant after t is also the next one after any t' in [t, next). A reconcile that
 * upserts thousands of job schedulers sharing a few patterns then parses each pattern once instead
 * of once per scheduler (cron-parser with luxon costs about half a millisecond a call). `every`
 * schedulers never get here (BullMQ computes them in its script); `immediately` and
 * "no next instant" answers are never remembered.
 */
export function memoRepeatStrategy(clock: () => number = Date.now): RepeatStrategy {
  const memo = new Map<string, { from: number; next: number; at: number }>();
  return (millis: number, opts: RepeatOptions) => {
    if (opts.immediately || !opts.pattern) return defaultRepeatStrategy(millis, opts);
    const start = opts.startDate === undefined ? undefined : new Date(opts.startDate).getTime();
    const from = start !== undefined && start > millis ? start : millis;
    const key = `${opts.pattern}\u0000${opts.tz ?? ''}\u0000${start ?? ''}\u0000${opts.endDate === undefined ? '' : new Date(opts.endDate).getTime()}`;
    const now = clock();
    const hit = memo.get(key);
    if (hit && hit.from <= from && from < hit.next && now - hit.at < CRON_MEMO_MS) return hit.next;
    const next = defaultRepeatStrategy(millis, opts);
    if (next !== undefined && Number.isFinite(next)) {
      if (memo.size > 10_000) memo.clear();
      memo.set(key, { from, next, at: now });
    }
    return next;
  };
}

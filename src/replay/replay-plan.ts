import { cronNext, NY_ZONE, type MarketCalendar } from '../calendar/index.ts';
import type { ScheduleEntry } from '../core/index.ts';
import type { ReplaySlot } from './replay-types.ts';

/** Every NYSE trading day from `from` to `to` (inclusive, YYYY-MM-DD): holidays and closures skipped. */
export function tradingDays(calendar: MarketCalendar, from: string, to: string): string[] {
  const out: string[] = [];
  const start = Date.parse(`${from}T12:00:00Z`);
  const end = Date.parse(`${to}T12:00:00Z`);
  for (let t = start; t <= end; t += 86_400_000) {
    const date = new Date(t).toISOString().slice(0, 10);
    if (calendar.isTradingDay(date)) out.push(date);
  }
  return out;
}

/** Most slots one trading day of a replayed schedule may have (a cron every few seconds is no replay). */
export const MAX_SLOTS_PER_DAY = 500;

/**
 * The decision points of a replay. Without a schedule: one per trading day, at its close. With a
 * schedule, its slots inside each session (`extended` schedules in the extended session, others in
 * the regular one; early closes end a day sooner, holidays have none), as the scheduler runs them:
 * `every` phased from the open (the first at the open, none at or after the close); `cron` at the
 * pattern's instants in the schedule's time zone (BullMQ's own parser, as the scheduler arms it, so
 * a DST change moves no New York slot). Only slots that have passed by `now` are planned.
 */
export function planSlots(calendar: MarketCalendar, range: { from: string; to: string }, schedule: (Pick<ScheduleEntry, 'every' | 'cron' | 'market_hours'> & { timezone?: string }) | null, now: Date): ReplaySlot[] {
  const days = tradingDays(calendar, range.from, range.to);
  if (!schedule) {
    return days.filter((d) => calendar.sessionOn(d, 'regular')!.close.getTime() <= now.getTime()).map((date) => ({ date, as_of: null }));
  }
  const { every, cron } = schedule;
  const tz = schedule.timezone ?? NY_ZONE;
  if (!every && !cron) throw new RangeError('the schedule has neither `every` nor `cron`');
  const session = schedule.market_hours === 'extended' ? 'extended' : 'regular';
  const slots: ReplaySlot[] = [];
  for (const date of days) {
    const w = calendar.sessionOn(date, session)!;
    const open = w.open.getTime();
    const end = Math.min(w.close.getTime(), now.getTime() + 1);
    const day: number[] = [];
    if (every) for (let t = open; t < end && day.length <= MAX_SLOTS_PER_DAY; t += every) day.push(t);
    // A pattern instant at the open counts (the scheduler arms from 1 ms before it).
    else for (let t = cronNext(cron!, tz, open - 1); t !== null && t < end && day.length <= MAX_SLOTS_PER_DAY; t = cronNext(cron!, tz, t)) day.push(t);
    if (day.length > MAX_SLOTS_PER_DAY) throw new RangeError(`the schedule has more than ${MAX_SLOTS_PER_DAY} slots on ${date}; a replay takes at most ${MAX_SLOTS_PER_DAY} a day`);
    for (const t of day) slots.push({ date, as_of: new Date(t).toISOString() });
  }
  return slots;
}

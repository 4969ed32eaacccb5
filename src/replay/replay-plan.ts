import type { MarketCalendar } from '../calendar/index.ts';
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

/**
 * The decision points of a replay. Without a schedule: one per trading day, at its close. With an
 * `every` schedule: that schedule's slots inside each session (phased from the open, the first at the
 * open, none at or after the close — as the scheduler runs them; early closes end a day sooner).
 * Only slots that have passed by `now` are planned.
 */
export function planSlots(calendar: MarketCalendar, range: { from: string; to: string }, schedule: Pick<ScheduleEntry, 'every' | 'market_hours'> | null, now: Date): ReplaySlot[] {
  const days = tradingDays(calendar, range.from, range.to);
  if (!schedule) {
    return days.filter((d) => calendar.sessionOn(d, 'regular')!.close.getTime() <= now.getTime()).map((date) => ({ date, as_of: null }));
  }
  const every = schedule.every;
  if (!every) throw new RangeError('only `every` schedules can be replayed');
  const session = schedule.market_hours === 'extended' ? 'extended' : 'regular';
  const slots: ReplaySlot[] = [];
  for (const date of days) {
    const w = calendar.sessionOn(date, session)!;
    for (let t = w.open.getTime(); t < w.close.getTime() && t <= now.getTime(); t += every) slots.push({ date, as_of: new Date(t).toISOString() });
  }
  return slots;
}

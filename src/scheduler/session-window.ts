import type { MarketCalendar } from '../calendar/index.ts';
import type { ScheduleEntry } from '../core/index.ts';

export interface ArmedWindow {
  /** First instant a cycle may fire (the session open). */
  startDate: number;
  /** Last instant a cycle may fire: just before the close (BullMQ's endDate is inclusive). */
  endDate: number;
}

/**
 * The window a gated schedule is armed for: the session it is in now, or the next one. The gate lives
 * in Redis as the job scheduler's startDate/endDate, so it survives a scheduler restart; at each close
 * the scheduler re-arms for the next session. `every` runs are phased from startDate, so the first
 * cycle of a session fires at the open. `always` schedules have no window.
 */
export function armedWindow(
  entry: Pick<ScheduleEntry, 'market_hours'> & { cron?: string },
  calendar: MarketCalendar,
  now: Date,
): ArmedWindow | null {
  if (entry.market_hours === 'always') return null;
  const window = calendar.nextSessionWindow(now, entry.market_hours);
  // A cron pattern's next instant is taken strictly after startDate: start 1 ms early so an instant at the open counts.
  const startDate = window.open.getTime() - (entry.cron ? 1 : 0);
  return { startDate, endDate: window.close.getTime() - 1 };
}

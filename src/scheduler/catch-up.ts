import type { MarketCalendar } from '../calendar/index.ts';
import type { ScheduleEntry } from '../core/index.ts';

/**
 * The most recent due instant of an `every` schedule strictly before `now` (inside its session for
 * gated schedules), or null. `always` schedules are phased like BullMQ's `every`: epoch multiples
 * shifted by the scheduler's offset.
 */
export function lastDueInstant(
  entry: Pick<ScheduleEntry, 'every' | 'market_hours'>,
  calendar: MarketCalendar,
  now: number,
  lookbackMs: number,
  offset = 0,
): number | null {
  const every = entry.every;
  if (!every) return null;
  if (entry.market_hours === 'always') {
    const slot = Math.floor((now - 1 - offset) / every) * every + offset;
    return now - slot <= lookbackMs ? slot : null;
  }
  const windows = calendar.sessionsBetween(new Date(now - lookbackMs), new Date(now), entry.market_hours);
  for (let i = windows.length - 1; i >= 0; i--) {
    const w = windows[i]!;
    const open = w.open.getTime();
    const lastInstant = Math.min(now - 1, w.close.getTime() - 1);
    if (lastInstant < open) continue;
    const slot = open + Math.floor((lastInstant - open) / every) * every;
    return now - slot <= lookbackMs ? slot : null;
  }
  return null;
}

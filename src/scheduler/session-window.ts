import type { MarketCalendar } from '../calendar/index.ts';
import type { ScheduleEntry } from '../core/index.ts';
import { cronNext } from './cron-pattern.ts';

/** What the scheduler needs from the market calendar (a narrower type lets tests run short sessions). */
export type SessionCalendar = Pick<MarketCalendar, 'nextSessionWindow' | 'sessionsBetween' | 'isOpen' | 'nextOpen'>;

export type TimedEntry = Pick<ScheduleEntry, 'market_hours' | 'every' | 'cron' | 'timezone'>;

export interface ArmedWindow {
  /** The session's bounds (close exclusive). */
  open: number;
  close: number;
  /** BullMQ startDate: the first run of an `every` window; for cron 1 ms before the open. */
  startDate: number;
  /** BullMQ endDate (inclusive). */
  endDate: number;
  /** The first run this window will fire, at or after the planning instant. */
  first: number;
}

/** How far ahead a cron pattern whose instants rarely meet the session is looked for. */
const CRON_HORIZON_MS = 370 * 86_400_000;

/**
 * The window a gated schedule is armed for: the first session (the current one or a later one) that
 * still has a run at or after `now`. The gate lives in Redis as the job scheduler's startDate/endDate,
 * so it survives a scheduler restart; once a session has no run left the scheduler re-arms for the next.
 *
 * `every`: runs are open + k·every (BullMQ phases an `every` scheduler from its first run, so
 * startDate is the open — or the next slot on that grid when armed mid-session). endDate is 1 ms
 * before the last slot: BullMQ adds the following run when a run *starts*, and refuses only once
 * that start is past endDate — so the last slot's run adds nothing at or after the close.
 * `cron`: startDate 1 ms before the open (a pattern instant at the open counts), endDate 1 ms before
 * the close; BullMQ evaluates the pattern with endDate and stops on its own.
 * `always` schedules have no window (null).
 */
export function armedWindow(entry: TimedEntry, calendar: SessionCalendar, now: Date): ArmedWindow | null {
  if (entry.market_hours === 'always') return null;
  const session = entry.market_hours;
  const t = now.getTime();
  if (entry.every) {
    const every = entry.every;
    let w = calendar.nextSessionWindow(now, session);
    for (let i = 0; i < 2; i++, w = calendar.nextSessionWindow(w.close, session)) {
      const open = w.open.getTime();
      const close = w.close.getTime();
      const lastSlot = open + Math.floor((close - 1 - open) / every) * every;
      const first = t <= open ? open : open + Math.ceil((t - open) / every) * every;
      if (first <= lastSlot) return { open, close, startDate: first, endDate: lastSlot - 1, first };
    }
    return null; // unreachable: the next session's open is always a slot
  }
  if (entry.cron) {
    let w = calendar.nextSessionWindow(now, session);
    while (w.open.getTime() - t < CRON_HORIZON_MS) {
      const open = w.open.getTime();
      const close = w.close.getTime();
      const first = cronNext(entry.cron, entry.timezone, t <= open ? open - 1 : t);
      if (first === null) return null;
      if (first < close) return { open, close, startDate: open - 1, endDate: close - 1, first };
      // Jump to the session holding (or following) the pattern's next instant.
      w = calendar.nextSessionWindow(new Date(first), session);
    }
  }
  return null;
}

/**
 * When a schedule fires next with the calendar applied, as BullMQ will do it; null when never.
 * `offset` is the phase BullMQ stored for an `always` + `every` scheduler (its first run mod every).
 */
export function nextFireInstant(entry: TimedEntry, calendar: SessionCalendar, now: Date, offset?: number): number | null {
  const t = now.getTime();
  if (entry.market_hours !== 'always') return armedWindow(entry, calendar, now)?.first ?? null;
  if (entry.cron) return cronNext(entry.cron, entry.timezone, t);
  if (!entry.every) return null;
  // A fresh `always` scheduler fires at once; an armed one keeps its phase.
  if (offset === undefined) return t;
  return offset + Math.ceil((t - offset) / entry.every) * entry.every;
}

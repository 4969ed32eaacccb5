import type { MarketCalendar } from '../calendar/index.ts';
import type { CycleJobData } from '../core/index.ts';

export type SkipReason = 'market_closed' | 'stale' | 'overlap' | 'cancelled';

export interface Admission {
  admit: boolean;
  reason?: SkipReason;
  detail?: string;
  /** When the cycle was due (scheduled runs) or asked for. */
  dueAt: number;
}

/** The least a schedule may lag before its run counts as stale, whatever its interval. */
export const MIN_STALE_MS = 60_000;

/**
 * Decides, when a job starts, whether it should analyse at all. A scheduled run that was due while the
 * market was closed, or that starts too late to matter (after downtime, behind a backlog), is recorded
 * as skipped with the reason instead of analysing old data.
 */
export function admit(data: CycleJobData, dueAt: number, startedAt: number, calendar: MarketCalendar): Admission {
  if (data.market_hours !== 'always' && !calendar.isOpen(new Date(dueAt), data.market_hours)) {
    return { admit: false, reason: 'market_closed', detail: `due ${new Date(dueAt).toISOString()} outside the ${data.market_hours} session`, dueAt };
  }
  // Scheduled runs are always checked; other jobs only when they carry their own limit. A run an
  // operator retried is wanted now, however old its due time.
  if (!data.retried_at && (data.trigger === 'schedule' || data.max_start_delay_ms !== null)) {
    const lateness = startedAt - dueAt;
    const maxDelay = data.max_start_delay_ms ?? Math.max(data.interval_ms ?? 0, MIN_STALE_MS);
    if (lateness > maxDelay && !(data.catch_up_ms !== null && lateness <= data.catch_up_ms)) {
      return { admit: false, reason: 'stale', detail: `started ${Math.round(lateness / 1000)}s after its due time (limit ${Math.round(maxDelay / 1000)}s)`, dueAt };
    }
  }
  return { admit: true, dueAt };
}

import {
  CYCLE_JOB_NAME,
  cycleJobOptions,
  schedulerKey,
  type CycleJobInput,
  type QueueName,
} from '../core/index.ts';
import type { ScheduleSet } from './schedule-file.ts';
import { armedWindow, type ArmedWindow, type SessionCalendar, type TimedEntry } from './session-window.ts';

/** One BullMQ job scheduler the file asks for: one per (schedule, ticker). */
export interface DesiredScheduler {
  key: string;
  queue: QueueName;
  scheduleId: string;
  ticker: string;
  repeat: { every?: number; pattern?: string; tz?: string; startDate?: number; endDate?: number };
  /** The session this scheduler is armed for; null for `always` schedules. */
  window: ArmedWindow | null;
  timing: TimedEntry;
  template: { name: string; data: CycleJobInput; opts: ReturnType<typeof cycleJobOptions> | (Omit<ReturnType<typeof cycleJobOptions>, 'attempts'> & { attempts: number }) };
}

/**
 * Expands the schedule file into job schedulers. Disabled and paused schedules produce none; gated
 * ones are windowed to the first market session that still has a run for them (none when a cron
 * pattern never meets the session — the file check reports that).
 * Template data carries no timestamp: the due time of each run is in its job id, and a stable
 * template is what makes reconciling idempotent.
 */
export function desiredSchedulers(
  set: ScheduleSet,
  paused: ReadonlySet<string>,
  calendar: SessionCalendar,
  now: Date,
  /** The config's CYCLE_ATTEMPTS / CYCLE_BACKOFF_MS; a schedule's own `attempts` wins. */
  env: Parameters<typeof cycleJobOptions>[1] = {},
): DesiredScheduler[] {
  const out: DesiredScheduler[] = [];
  // Schedules with the same timing share their window: thousands of entries cost a few calendar walks.
  const windows = new Map<string, ArmedWindow | null>();
  const windowOf = (entry: TimedEntry) => {
    const k = `${entry.market_hours}|${entry.every ?? ''}|${entry.cron ?? ''}|${entry.timezone ?? ''}`;
    if (!windows.has(k)) windows.set(k, armedWindow(entry, calendar, now));
    return windows.get(k)!;
  };
  for (const entry of set.schedules) {
    if (!entry.enabled || paused.has(entry.id)) continue;
    const profile = set.agents[entry.agent];
    if (!profile) continue; // the file loader has already rejected unknown agents
    const window = windowOf(entry);
    if (entry.market_hours !== 'always' && !window) continue;
    const base = entry.cron ? { pattern: entry.cron, tz: entry.timezone } : { every: entry.every };
    for (const ticker of entry.tickers) {
      out.push({
        key: schedulerKey(entry.id, ticker),
        queue: entry.queue,
        scheduleId: entry.id,
        ticker,
        repeat: window ? { ...base, startDate: window.startDate, endDate: window.endDate } : base,
        window,
        timing: { market_hours: entry.market_hours, every: entry.every, cron: entry.cron, timezone: entry.timezone },
        template: {
          name: CYCLE_JOB_NAME,
          data: {
            agent: entry.agent,
            ticker,
            schedule_id: entry.id,
            trigger: 'schedule',
            dry_run: entry.dry_run,
            market_hours: entry.market_hours,
            profile,
            options: {},
            interval_ms: entry.every ?? null,
            catch_up_ms: entry.catch_up === 'none' ? null : entry.catch_up,
            max_start_delay_ms: entry.max_start_delay ?? null,
            overlap: entry.overlap,
            soft_time_limit_ms: entry.soft_time_limit ?? null,
            hard_time_limit_ms: entry.hard_time_limit ?? null,
          },
          opts: { ...cycleJobOptions(entry.queue, env), ...(entry.attempts ? { attempts: entry.attempts } : {}) },
        },
      });
    }
  }
  return out;
}

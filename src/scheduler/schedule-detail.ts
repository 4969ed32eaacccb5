import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { MarketCalendar } from '../calendar/index.ts';
import { nyDate } from '../calendar/index.ts';
import {
  readScheduleRuns,
  readScheduleTally,
  schedulerKey,
  type ProductKeys,
  type QueueName,
  type ScheduleEntry,
  type ScheduleRun,
  type ScheduleTally,
} from '../core/index.ts';
import { catchUpJobId } from './catch-up.ts';
import { cronNext } from './cron-pattern.ts';
import { readPublishedSchedules } from './schedule-registry.ts';
import { describeSchedules, type ScheduleView } from './schedule-views.ts';
import { nextFireInstant, type SessionCalendar } from './session-window.ts';

type DetailCalendar = SessionCalendar & Pick<MarketCalendar, 'sessionOn'>;

/** A planned slot of today's session and what became of it, per ticker. */
export interface TimelineSlot {
  at: string;
  runs: Array<{ ticker: string; status: 'planned' | 'pending' | 'running' | 'missing' | ScheduleRun['status']; job_id?: string; decision?: string; reason?: string }>;
}

export interface ScheduleTimeline {
  date: string;
  /** Null when the market is closed all day for this schedule's session. */
  session: { open: string; close: string; early_close: boolean } | null;
  slots: TimelineSlot[];
  /** Slots beyond the display limit (very frequent schedules). */
  truncated: number;
  /** Runs today that are not on the grid: manual triggers, catch-up runs. */
  other_runs: ScheduleRun[];
}

export interface ScheduleDetail extends ScheduleView {
  next_runs: Array<{ ticker: string; scheduler: string; runs: string[] }>;
  recent_runs: ScheduleRun[];
  counts: { today: ScheduleTally; all_time: ScheduleTally };
  today: ScheduleTimeline;
}

export const MAX_NEXT_RUNS = 200;
const MAX_SLOTS = 500;

/**
 * The next `n` runs with the market calendar applied, as BullMQ will fire them: none on holidays or
 * weekends, none at or after an early close. `offset` is the phase of an `always` + `every` scheduler.
 */
export function plannedRuns(entry: Pick<ScheduleEntry, 'market_hours' | 'every' | 'cron' | 'timezone'>, calendar: SessionCalendar, now: Date, n: number, offset?: number): number[] {
  const out: number[] = [];
  let t = now.getTime();
  for (let guard = 0; out.length < n && guard < n * 4 + 10; guard++) {
    let next: number | null;
    if (entry.market_hours === 'always' && entry.every && out.length) next = out.at(-1)! + entry.every;
    else next = nextFireInstant(entry, calendar, new Date(t), offset);
    if (next === null) break;
    if (!out.length || next > out.at(-1)!) out.push(next);
    t = next + 1;
  }
  return out;
}

/** The slots a schedule plans inside one New York day's session. */
export function sessionSlots(entry: Pick<ScheduleEntry, 'market_hours' | 'every' | 'cron' | 'timezone'>, calendar: DetailCalendar, date: string): { session: ScheduleTimeline['session']; slots: number[]; truncated: number } {
  const w = calendar.sessionOn(date, entry.market_hours);
  if (!w) return { session: null, slots: [], truncated: 0 };
  const open = w.open.getTime();
  const close = w.close.getTime();
  const all: number[] = [];
  if (entry.every) {
    // Gated schedules are phased from the open; `always` ones sit on BullMQ's epoch-aligned grid.
    const first = entry.market_hours === 'always' ? Math.ceil(open / entry.every) * entry.every : open;
    for (let t = first; t < close; t += entry.every) all.push(t);
  } else if (entry.cron) {
    for (let t = cronNext(entry.cron, entry.timezone, open - 1); t !== null && t < close; t = cronNext(entry.cron, entry.timezone, t)) all.push(t);
  }
  return {
    session: { open: w.open.toISOString(), close: w.close.toISOString(), early_close: w.early_close },
    slots: all.slice(0, MAX_SLOTS),
    truncated: Math.max(0, all.length - MAX_SLOTS),
  };
}

/**
 * One schedule in full: its view, the next `next` runs per ticker, recent runs with outcomes, counts
 * for today and all time, and today's session as planned slots against what happened. Null when the
 * loaded schedule file has no such id.
 */
export async function describeSchedule(
  redis: Redis,
  keys: ProductKeys,
  queues: Record<QueueName, Queue>,
  calendar: DetailCalendar,
  now: Date,
  id: string,
  opts: { next?: number; recent?: number } = {},
): Promise<ScheduleDetail | null> {
  const entry = (await readPublishedSchedules(redis, keys)).find((e) => e.id === id);
  if (!entry) return null;
  const view = (await describeSchedules(redis, keys, queues, calendar, now)).find((s) => s.id === id)!;
  const today = nyDate(now);
  const [runs, todayTally, allTally] = await Promise.all([
    readScheduleRuns(redis, keys, id),
    readScheduleTally(redis, keys, id, today),
    readScheduleTally(redis, keys, id, 'all'),
  ]);
  const n = Math.min(Math.max(opts.next ?? 5, 1), MAX_NEXT_RUNS);
  const active = entry.enabled && !view.paused;
  const next_runs = await Promise.all(
    entry.tickers.map(async (ticker) => {
      const key = schedulerKey(entry.id, ticker);
      const scheduler = active && entry.market_hours === 'always' && entry.every ? await queues[entry.queue].getJobScheduler(key) : undefined;
      const planned = active ? plannedRuns(entry, calendar, now, n, scheduler?.offset) : [];
      return { ticker, scheduler: key, runs: planned.map((t) => new Date(t).toISOString()) };
    }),
  );
  return {
    ...view,
    next_runs,
    recent_runs: runs.slice(0, opts.recent ?? 20),
    counts: { today: todayTally, all_time: allTally },
    today: await timeline(entry, queues, calendar, today, now, runs),
  };
}

async function timeline(entry: ScheduleEntry, queues: Record<QueueName, Queue>, calendar: DetailCalendar, date: string, now: Date, runs: ScheduleRun[]): Promise<ScheduleTimeline> {
  const { session, slots, truncated } = sessionSlots(entry, calendar, date);
  const todays = runs.filter((r) => nyDate(new Date(r.due_at)) === date);
  const bySlot = new Map<string, ScheduleRun>();
  for (const r of todays) if (r.trigger === 'schedule') bySlot.set(`${r.ticker}|${r.due_at}`, r);
  const onGrid = new Set(slots);
  const out: TimelineSlot[] = await Promise.all(
    slots.map(async (at) => ({
      at: new Date(at).toISOString(),
      runs: await Promise.all(
        entry.tickers.map(async (ticker) => {
          const r = bySlot.get(`${ticker}|${at}`);
          if (r) return { ticker, status: r.status, job_id: r.job_id, ...(r.decision ? { decision: r.decision } : {}), ...(r.reason ? { reason: r.reason } : {}) };
          if (at > now.getTime()) return { ticker, status: 'planned' as const };
          // Not recorded yet: still queued or running (as scheduled, or as its catch-up), or it never fired.
          const key = schedulerKey(entry.id, ticker);
          const queue = queues[entry.queue];
          let jobId = `repeat:${key}:${at}`;
          let job = await queue.getJob(jobId);
          if (!job) job = await queue.getJob((jobId = catchUpJobId(key, at)));
          const state = job ? await job.getState() : null;
          const status = state === 'active' ? 'running' : state === 'waiting' || state === 'delayed' || state === 'prioritized' ? 'pending' : 'missing';
          return { ticker, status, ...(job ? { job_id: jobId } : {}) } as TimelineSlot['runs'][number];
        }),
      ),
    })),
  );
  const other_runs = todays.filter((r) => r.trigger !== 'schedule' || !onGrid.has(r.due_at));
  return { date, session, slots: out, truncated, other_runs };
}

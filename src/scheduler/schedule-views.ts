import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { readCounters, schedulerKey, type ProductKeys, type QueueName, type ScheduleEntry } from '../core/index.ts';
import { nextFireInstant, type SessionCalendar } from './session-window.ts';
import { readPausedIds, readPublishedSchedules } from './schedule-registry.ts';

/** What the last cycle of a (schedule, ticker) did, as the worker records it. */
export interface LastRun {
  job_id: string;
  status: string;
  decision?: string;
  reason?: string;
  finished_at?: string;
  due_at?: number;
}

export interface PauseNote {
  by: string;
  at: string;
  note: string | null;
}

export interface ScheduleView {
  id: string;
  /** The schedule file's description of the entry; null when it has none. */
  description: string | null;
  agent: string;
  tickers: string[];
  every: string | null;
  every_ms: number | null;
  cron: string | null;
  timezone: string;
  market_hours: string;
  queue: QueueName;
  enabled: boolean;
  paused: boolean;
  /** Who paused it, when and why (null when not paused). */
  pause: PauseNote | null;
  dry_run: boolean;
  overlap: string;
  catch_up: string;
  next_run: string | null;
  runs: Array<{ ticker: string; scheduler: string; next_run: string | null; last_run: LastRun | null }>;
  last_run: (LastRun & { ticker: string }) | null;
  skipped: Record<string, number>;
  rearmed: number;
}

export function formatDuration(ms: number): string {
  const parts: string[] = [];
  let rest = Math.round(ms / 1000);
  for (const [unit, size] of [['d', 86_400], ['h', 3_600], ['m', 60], ['s', 1]] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  return parts.join('') || '0s';
}

/** A last-run record as the worker wrote it; one that cannot be read shows as none rather than failing the whole listing. */
function parseLastRun(raw: string): LastRun | null {
  try {
    const v = JSON.parse(raw) as unknown;
    return v && typeof v === 'object' ? (v as LastRun) : null;
  } catch {
    return null;
  }
}

/** Every published schedule with its next runs (calendar applied), last runs and counters. */
export async function describeSchedules(
  redis: Redis,
  keys: ProductKeys,
  queues: Record<QueueName, Queue>,
  calendar: SessionCalendar,
  now: Date,
): Promise<ScheduleView[]> {
  const [entries, paused, lastRuns, counters, notes] = await Promise.all([
    readPublishedSchedules(redis, keys),
    readPausedIds(redis, keys),
    redis.hgetall(keys.lastRuns),
    readCounters(redis, keys),
    redis.hgetall(pauseNotesKey(keys)),
  ]);
  const views = await Promise.all(entries.map((e) => describeOne(e, paused.has(e.id), lastRuns, counters, queues, calendar, now)));
  for (const v of views) v.pause = v.paused ? (notes[v.id] ? (JSON.parse(notes[v.id]!) as PauseNote) : { by: 'unknown', at: '', note: null }) : null;
  return views;
}

async function describeOne(
  entry: ScheduleEntry,
  paused: boolean,
  lastRuns: Record<string, string>,
  counters: Awaited<ReturnType<typeof readCounters>>,
  queues: Record<QueueName, Queue>,
  calendar: SessionCalendar,
  now: Date,
): Promise<ScheduleView> {
  const active = entry.enabled && !paused;
  const runs = await Promise.all(
    entry.tickers.map(async (ticker) => {
      const key = schedulerKey(entry.id, ticker);
      const scheduler = active ? await queues[entry.queue].getJobScheduler(key) : undefined;
      // BullMQ's own next run while it lies ahead; otherwise (not armed yet, or the session's runs are
      // done and the window not yet rolled) the calendar says when the schedule fires next.
      let next: number | null = scheduler?.next && scheduler.next >= now.getTime() ? scheduler.next : null;
      if (active && next === null) next = nextFireInstant(entry, calendar, now, scheduler?.offset);
      const raw = lastRuns[key];
      return { ticker, scheduler: key, next_run: next ? new Date(next).toISOString() : null, last_run: raw ? parseLastRun(raw) : null };
    }),
  );
  const nexts = runs.map((r) => r.next_run).filter((x): x is string => x !== null).sort();
  const lasts = runs
    .filter((r) => r.last_run)
    .map((r) => ({ ...r.last_run!, ticker: r.ticker }))
    .sort((a, b) => (b.finished_at ?? '').localeCompare(a.finished_at ?? ''));
  const skipped: Record<string, number> = {};
  let rearmed = 0;
  for (const c of counters) {
    if (c.labels.schedule !== entry.id) continue;
    if (c.name === 'cycles_skipped_total') skipped[c.labels.reason ?? 'unknown'] = c.value;
    if (c.name === 'schedule_rearmed_total') rearmed = c.value;
  }
  return {
    id: entry.id,
    description: entry.description ?? null,
    agent: entry.agent,
    tickers: entry.tickers,
    every: entry.every ? formatDuration(entry.every) : null,
    every_ms: entry.every ?? null,
    cron: entry.cron ?? null,
    timezone: entry.timezone,
    market_hours: entry.market_hours,
    queue: entry.queue,
    enabled: entry.enabled,
    paused,
    pause: null,
    dry_run: entry.dry_run,
    overlap: entry.overlap,
    catch_up: entry.catch_up === 'none' ? 'none' : formatDuration(entry.catch_up),
    next_run: nexts[0] ?? null,
    runs,
    last_run: lasts[0] ?? null,
    skipped,
    rearmed,
  };
}

function pauseNotesKey(keys: ProductKeys): string {
  return keys.custom('pause-notes');
}

/**
 * Pauses or resumes a schedule at run time: state in Redis, applied by the scheduler at once. A pause
 * keeps who asked, when and why; a resume clears it.
 */
export async function setSchedulePaused(redis: Redis, keys: ProductKeys, scheduleId: string, paused: boolean, who: { by?: string; note?: string | null; at?: Date } = {}): Promise<PauseNote | null> {
  let note: PauseNote | null = null;
  if (paused) {
    note = { by: who.by || 'unknown', at: (who.at ?? new Date()).toISOString(), note: who.note || null };
    await redis.multi().sadd(keys.paused, scheduleId).hset(pauseNotesKey(keys), scheduleId, JSON.stringify(note)).exec();
  } else await redis.multi().srem(keys.paused, scheduleId).hdel(pauseNotesKey(keys), scheduleId).exec();
  await redis.publish(keys.controlChannel, `${paused ? 'pause' : 'resume'} ${scheduleId}`);
  return note;
}

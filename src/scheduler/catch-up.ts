import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { ProductKeys, QueueName, ScheduleEntry } from '../core/index.ts';
import { cronLastBefore } from './cron-pattern.ts';
import type { DesiredScheduler } from './desired-schedulers.ts';
import { keptRunOpen, readKeptRuns, type KeptRun } from './kept-runs.ts';
import type { SessionCalendar } from './session-window.ts';

/**
 * The most recent due instant of a schedule strictly before `now` and no older than `lookbackMs`
 * (inside its session for gated schedules), or null. Gated `every` runs sit on the open + k·every
 * grid; `always` + `every` ones on BullMQ's phase (`offset`, the scheduler's first run mod every).
 */
export function lastDueInstant(
  entry: Pick<ScheduleEntry, 'every' | 'cron' | 'timezone' | 'market_hours'>,
  calendar: SessionCalendar,
  now: number,
  lookbackMs: number,
  offset = 0,
): number | null {
  const oldest = now - lookbackMs;
  if (entry.market_hours === 'always') {
    if (entry.cron) return cronLastBefore(entry.cron, entry.timezone, oldest - 1, now);
    if (!entry.every) return null;
    const slot = Math.floor((now - 1 - offset) / entry.every) * entry.every + offset;
    return slot >= oldest ? slot : null;
  }
  const windows = calendar.sessionsBetween(new Date(oldest), new Date(now), entry.market_hours);
  for (let i = windows.length - 1; i >= 0; i--) {
    const open = windows[i]!.open.getTime();
    const close = windows[i]!.close.getTime();
    let due: number | null = null;
    if (entry.cron) {
      due = cronLastBefore(entry.cron, entry.timezone, Math.max(open, oldest) - 1, Math.min(close, now));
    } else if (entry.every) {
      const lastInstant = Math.min(now - 1, close - 1);
      if (lastInstant >= open) due = open + Math.floor((lastInstant - open) / entry.every) * entry.every;
    }
    if (due !== null) return due >= oldest ? due : null;
  }
  return null;
}

export interface CatchUpDeps {
  redis: Redis;
  keys: ProductKeys;
  queues: Record<QueueName, Queue>;
  calendar: SessionCalendar;
}

const PENDING = new Set(['delayed', 'waiting', 'prioritized']);

/**
 * `catchup:<schedule>:<ticker>@<due millis>`: BullMQ refuses a custom job id unless it has exactly two
 * colons (its own `repeat:<schedule>:<ticker>:<millis>` ids are made inside its scripts).
 */
export function catchUpJobId(key: string, due: number): string {
  return `catchup:${key}@${due}`;
}

export interface CatchUpReport {
  enqueued: string[];
  failed: Array<{ key: string; error: string }>;
}

/**
 * The missed-run policy, applied when a scheduler takes the lead (start-up): for each (schedule,
 * ticker) with `catch_up: <duration>`, at most ONE cycle for its last due instant, when that instant
 * is younger than the duration and did not run. Never a backlog: older instants are dropped.
 * Nothing is added when a scheduled run is already due and pending (it runs late by itself, and the
 * worker's stale check admits it under catch_up), nor while a run kept across a rewrite of its
 * scheduler (kept-runs.ts) still waits or runs, nor for a schedule that did not exist before (a
 * new schedule missed nothing). The job id `catchup:<key>@<due>` makes it idempotent across restarts
 * and between two schedulers. One entry's failure (an unreadable last-run record, a refused add) is
 * reported and the others go on: the caller logs it once, it is never retried in a loop.
 */
export async function catchUpMissedRuns(
  deps: CatchUpDeps,
  desired: DesiredScheduler[],
  existedBefore: ReadonlySet<string>,
  now: number,
): Promise<CatchUpReport> {
  const lastRuns = await deps.redis.hgetall(deps.keys.lastRuns);
  const kept = await readKeptRuns(deps.redis, deps.keys.keptRuns);
  const report: CatchUpReport = { enqueued: [], failed: [] };
  for (const d of desired) {
    if (!d.template.data.catch_up_ms) continue;
    try {
      const jobId = await catchUpOne(deps, d, lastRuns[d.key], kept.get(d.key), existedBefore.has(d.key), now);
      if (jobId) report.enqueued.push(jobId);
    } catch (err) {
      report.failed.push({ key: d.key, error: (err as Error).message });
    }
  }
  return report;
}

async function catchUpOne(deps: CatchUpDeps, d: DesiredScheduler, lastRaw: string | undefined, kept: KeptRun | undefined, existed: boolean, now: number): Promise<string | null> {
  const catchUpMs = d.template.data.catch_up_ms!;
  if (!existed && !lastRaw) return null;
  const queue = deps.queues[d.queue];
  const scheduler = await queue.getJobScheduler(d.key);
  if (scheduler?.next && scheduler.next <= now) {
    const pending = await queue.getJob(`repeat:${d.key}:${scheduler.next}`);
    if (pending && PENDING.has(await pending.getState())) return null;
  }
  // A due run kept when its scheduler was rewritten (an edit, a roll, a move) is that missed run: it runs late by itself.
  if (kept && (await keptRunOpen(deps.redis, deps.keys.keptRuns, deps.queues, d.key, kept))) return null;
  const due = lastDueInstant(d.timing, deps.calendar, now, catchUpMs, scheduler?.offset ?? 0);
  if (due === null) return null;
  const lastDue = lastRaw ? lastRunDue(lastRaw) : 0;
  if (lastDue >= due) return null;
  if (await queue.getJob(`repeat:${d.key}:${due}`)) return null; // it ran, or is about to
  const jobId = catchUpJobId(d.key, due);
  if (await queue.getJob(jobId)) return null; // enqueued by an earlier start, or by the other scheduler
  await queue.add(d.template.name, { ...d.template.data, requested_at: new Date(due).toISOString() }, { ...d.template.opts, jobId });
  return jobId;
}

/** The due time of the last recorded run; an unreadable record is an error (the caller reports it). */
function lastRunDue(raw: string): number {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new Error(`its last-run record is not JSON: ${JSON.stringify(raw.slice(0, 80))}`);
  }
  return Number((parsed as { due_at?: number } | null)?.due_at ?? 0);
}

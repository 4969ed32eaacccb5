import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { ProductKeys, QueueName, ScheduleEntry } from '../core/index.ts';
import { cronLastBefore } from './cron-pattern.ts';
import type { DesiredScheduler } from './desired-schedulers.ts';
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

/**
 * The missed-run policy, applied when a scheduler takes the lead (start-up): for each (schedule,
 * ticker) with `catch_up: <duration>`, at most ONE cycle for its last due instant, when that instant
 * is younger than the duration and did not run. Never a backlog: older instants are dropped.
 * Nothing is added when a scheduled run is already due and pending (it runs late by itself, and the
 * worker's stale check admits it under catch_up), nor for a schedule that did not exist before (a
 * new schedule missed nothing). The job id `catchup:<key>@<due>` makes it idempotent across restarts
 * and between two schedulers. Returns the enqueued job ids.
 */
export async function catchUpMissedRuns(
  deps: CatchUpDeps,
  desired: DesiredScheduler[],
  existedBefore: ReadonlySet<string>,
  now: number,
): Promise<string[]> {
  const lastRuns = await deps.redis.hgetall(deps.keys.lastRuns);
  const enqueued: string[] = [];
  for (const d of desired) {
    const catchUpMs = d.template.data.catch_up_ms;
    if (!catchUpMs) continue;
    const lastRaw = lastRuns[d.key];
    if (!existedBefore.has(d.key) && !lastRaw) continue;
    const queue = deps.queues[d.queue];
    const scheduler = await queue.getJobScheduler(d.key);
    if (scheduler?.next && scheduler.next <= now) {
      const pending = await queue.getJob(`repeat:${d.key}:${scheduler.next}`);
      if (pending && PENDING.has(await pending.getState())) continue;
    }
    const due = lastDueInstant(d.timing, deps.calendar, now, catchUpMs, scheduler?.offset ?? 0);
    if (due === null) continue;
    const lastDue = lastRaw ? Number((JSON.parse(lastRaw) as { due_at?: number }).due_at ?? 0) : 0;
    if (lastDue >= due) continue;
    if (await queue.getJob(`repeat:${d.key}:${due}`)) continue; // it ran, or is about to
    const jobId = catchUpJobId(d.key, due);
    if (await queue.getJob(jobId)) continue; // enqueued by an earlier start, or by the other scheduler
    await queue.add(d.template.name, { ...d.template.data, requested_at: new Date(due).toISOString() }, { ...d.template.opts, jobId });
    enqueued.push(jobId);
  }
  return enqueued;
}

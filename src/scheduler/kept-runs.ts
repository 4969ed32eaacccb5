import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { productKeys, type QueueName } from '../core/index.ts';
import type { DesiredScheduler } from './desired-schedulers.ts';
import { clientOf, type SchedulerState } from './scheduler-states.ts';

/**
 * Runs kept across a rewrite of their job scheduler. A run that is due and waits for a worker (a
 * backlog, a stopped worker) would be dropped by BullMQ when its scheduler is rewritten: an upsert
 * of a cron scheduler removes it and moves on to the pattern's next instant, a removal (to re-create
 * the scheduler, or to move it to another queue) takes a delayed run with it. So the run is kept
 * instead: promoted to waiting (removal then leaves it alone), recorded, and the scheduler removed
 * and added afresh with its new definition, its first run after the kept one. A worker that starts
 * the kept run adds nothing (BullMQ iterates a scheduler only from its current run).
 */

/** Where a kept run is; one per scheduler key (the latest), in the product's `keptRuns` hash. */
export interface KeptRun {
  queue: QueueName;
  job_id: string;
  due: number;
}

const PENDING = new Set(['delayed', 'waiting', 'prioritized']);

export const runIdOf = (s: Pick<SchedulerState, 'key' | 'next'>) => `repeat:${s.key}:${s.next}`;

/**
 * The scheduler's run is due (by `now`) and still waits for a worker (delayed, waiting or prioritized).
 * A run past its window's last slot is not one to keep (the worker would record it market_closed).
 */
export async function dueRunPending(queue: Queue, s: SchedulerState, now: number): Promise<boolean> {
  if (!s.next || s.next > now || s.nextRun === 'missing') return false;
  if (s.endDate !== undefined && s.next > s.endDate + 1) return false;
  if (s.nextRun !== 'other') return true;
  return PENDING.has(await queue.getJobState(runIdOf(s)));
}

/** Records the scheduler's due run as kept and makes it waiting, so that removing the scheduler leaves it. */
export async function keepDueRun(name: QueueName, queue: Queue, s: SchedulerState): Promise<string> {
  const id = runIdOf(s);
  const kept: KeptRun = { queue: name, job_id: id, due: s.next };
  await (await clientOf(queue)).hset(keptRunsKey(queue), s.key, JSON.stringify(kept));
  // Taken by a worker meanwhile, it is not delayed any more (and not dropped by a removal either).
  if (s.nextRun === 'delayed') await (await queue.getJob(id))?.promote().catch(() => undefined);
  return id;
}

/**
 * The repeat options of a scheduler added beside a kept run: its first run comes after that one.
 * A cron scheduler starts at the pattern's next instant after now, already later; an `always` +
 * `every` one would fire at once, so it is phased on the kept run's grid (BullMQ's `offset`; 0 means
 * none to BullMQ, `every` is the same grid); a windowed one starts at its grid's next slot after it.
 */
export function firstRunAfter(d: DesiredScheduler, keptDue: number): DesiredScheduler['repeat'] & { offset?: number } {
  const r = d.repeat;
  if (r.every === undefined) return r;
  if (r.startDate === undefined || !d.window) return { ...r, offset: keptDue % r.every || r.every };
  if (r.startDate > keptDue) return r;
  const open = d.window.open;
  return { ...r, startDate: open + (Math.floor((keptDue - open) / r.every) + 1) * r.every };
}

/** Every recorded kept run, by scheduler key (an unreadable record is left out). */
export async function readKeptRuns(redis: Redis, key: string): Promise<Map<string, KeptRun>> {
  const out = new Map<string, KeptRun>();
  for (const [k, v] of Object.entries(await redis.hgetall(key))) {
    try {
      out.set(k, JSON.parse(v) as KeptRun);
    } catch {
      // written by hand: nothing kept that we know of
    }
  }
  return out;
}

/** Whether the kept run still waits or runs; one that has finished (or is gone) is forgotten. */
export async function keptRunOpen(redis: Redis, key: string, queues: Record<QueueName, Queue>, schedulerKey: string, kept: KeptRun): Promise<boolean> {
  const queue = queues[kept.queue];
  const state = queue ? await queue.getJobState(kept.job_id) : 'unknown';
  if (PENDING.has(state) || state === 'active') return true;
  await redis.hdel(key, schedulerKey);
  return false;
}

/** Every recorded kept run, read through the queues' connection (one call). */
export async function keptRunsOf(queues: Record<QueueName, Queue>): Promise<Map<string, KeptRun>> {
  const any = Object.values(queues)[0]!;
  return readKeptRuns(await clientOf(any), keptRunsKey(any));
}

/**
 * A scheduler removed for good (paused, or gone from the file) leaves nothing pending: its kept run
 * goes too, if it has not started.
 */
export async function dropKeptRun(queues: Record<QueueName, Queue>, schedulerKey: string, kept: KeptRun): Promise<void> {
  const any = Object.values(queues)[0]!;
  const job = queues[kept.queue] ? await queues[kept.queue].getJob(kept.job_id) : undefined;
  if (job && PENDING.has(await job.getState())) await job.remove().catch(() => undefined);
  await (await clientOf(any)).hdel(keptRunsKey(any), schedulerKey);
}

/** The product's hash of kept runs, under the queues' own prefix (QUEUE_PREFIX). */
function keptRunsKey(queue: Queue): string {
  return productKeys(queue.opts.prefix ?? 'bull').keptRuns;
}

import type { Queue } from 'bullmq';
import type { QueueName } from '../core/index.ts';
import { mapConcurrent } from './bounded-concurrency.ts';
import { cronNext } from './cron-pattern.ts';
import type { DesiredScheduler } from './desired-schedulers.ts';
import { readSchedulerStates, type SchedulerState } from './scheduler-states.ts';

export interface StalledScheduler {
  key: string;
  scheduleId: string;
  queue: QueueName;
  reason: string;
  /** `upsert` re-adds the missing run in place; `recreate` starts the scheduler afresh (its `next` is wrong). */
  action: 'upsert' | 'recreate';
}

const PENDING = new Set(['delayed', 'waiting', 'prioritized']);

/**
 * Finds job schedulers that have silently stopped. BullMQ adds a scheduler's next run when a worker
 * starts the current one; when that step fails (several upstream reports) nothing is pending and the
 * schedule never fires again. A scheduler is stalled when a run is owed inside its window and: it is
 * gone, it records no next run, its next run is missing or finished with nothing newer pending, the
 * running run did not add the next one, or (for `every`) the next run is more than one interval away.
 *
 * Not stalls: a window whose last run is done (the reconcile re-arms it for the next session), a
 * scheduler not yet re-armed for its new window (the reconcile's business), and a pending run that is
 * overdue because no worker took it yet (a backlog, visible in the job list; re-arming cannot help).
 */
export async function findStalledSchedulers(
  queues: Record<QueueName, Queue>,
  desired: DesiredScheduler[],
  now: number,
  graceMs = 5_000,
): Promise<StalledScheduler[]> {
  // One read per queue gives every scheduler and where its next run is; only runs neither delayed nor
  // missing (waiting, active, finished) cost a state call of their own, a window of them at a time.
  const byQueue = new Map<QueueName, Map<string, Scheduler>>();
  await Promise.all(
    [...new Set(desired.map((d) => d.queue))].map(async (name) => {
      byQueue.set(name, await readSchedulerStates(queues[name]));
    }),
  );
  const verdicts = await mapConcurrent(desired, 64, (d) => verdictOf(queues[d.queue], d, byQueue.get(d.queue)?.get(d.key), now, graceMs));
  return desired.flatMap((d, i) => {
    const v = verdicts[i];
    return v ? [{ key: d.key, scheduleId: d.scheduleId, queue: d.queue, reason: v.reason, action: v.action }] : [];
  });
}

type Scheduler = SchedulerState;
type Verdict = { reason: string; action: StalledScheduler['action'] } | null;

async function verdictOf(queue: Queue, d: DesiredScheduler, scheduler: Scheduler | undefined, now: number, graceMs: number): Promise<Verdict> {
  const found = (reason: string, action: StalledScheduler['action'] = 'upsert'): Verdict => ({ reason, action });
  if (!scheduler) return found('job scheduler missing');
  if (d.window && (scheduler.endDate !== d.repeat.endDate || scheduler.startDate === undefined || scheduler.startDate < d.window.open - 1)) return null;
  if (!scheduler.next) return found('no next run recorded');
  const next = scheduler.next;
  const jobId = `repeat:${d.key}:${next}`;
  const raw = scheduler.nextRun === 'other' ? await queue.getJobState(jobId) : scheduler.nextRun;
  const state = raw === 'unknown' ? 'missing' : raw;
  const every = d.repeat.every;
  if (PENDING.has(state)) {
    const armedAhead = d.window !== null && now < d.window.startDate;
    if (every !== undefined && !armedAhead && next - now > every + graceMs) {
      return found(`next run ${new Date(next).toISOString()} is further away than one interval`, 'recreate');
    }
    return null;
  }
  if (!owesRunAfter(d, next)) return null;
  if (state === 'active') {
    // The worker adds the next run as it starts this one: a moment's grace, then it is missing.
    const job = await queue.getJob(jobId);
    if (job?.processedOn && now - job.processedOn > graceMs) return found('the running cycle did not add the next run');
    return null;
  }
  return found(state === 'missing' ? 'next run missing from Redis' : `next run is ${state} and nothing newer is pending`);
}

/** Whether the schedule has a run after `at` inside its current window (always, for `always`). */
function owesRunAfter(d: DesiredScheduler, at: number): boolean {
  const w = d.window;
  if (!w) return true;
  if (d.repeat.every !== undefined) return at + d.repeat.every <= w.endDate + 1;
  const following = d.repeat.pattern ? cronNext(d.repeat.pattern, d.timing.timezone, at) : null;
  return following !== null && following < w.close;
}

import type { Queue } from 'bullmq';
import type { QueueName } from '../core/index.ts';
import type { DesiredScheduler } from './desired-schedulers.ts';

export interface StalledScheduler {
  key: string;
  scheduleId: string;
  queue: QueueName;
  reason: string;
}

const PENDING_STATES = new Set(['delayed', 'waiting', 'prioritized', 'active', 'waiting-children']);

/**
 * Finds job schedulers that have silently stopped: gone from Redis, or with no pending run although
 * one is due inside their window (upstream, a failed "add next" step leaves a scheduler with nothing
 * pending). A scheduler whose window has closed is the re-arm loop's business, not a stall.
 */
export async function findStalledSchedulers(
  queues: Record<QueueName, Queue>,
  desired: DesiredScheduler[],
  now: number,
  graceMs = 2_000,
): Promise<StalledScheduler[]> {
  const stalled: StalledScheduler[] = [];
  for (const d of desired) {
    const found = (reason: string) => stalled.push({ key: d.key, scheduleId: d.scheduleId, queue: d.queue, reason });
    const { startDate, endDate, every } = d.repeat;
    if (endDate !== undefined && now > endDate - graceMs) continue;
    if (every !== undefined && startDate !== undefined && endDate !== undefined) {
      // No further slot inside this window: the last run of the session is done, nothing is owed.
      const nextSlot = startDate + Math.max(0, Math.ceil((now - startDate) / every)) * every;
      if (nextSlot > endDate) continue;
    }
    const queue = queues[d.queue];
    const scheduler = await queue.getJobScheduler(d.key);
    if (!scheduler) {
      found('job scheduler missing');
      continue;
    }
    if (!scheduler.next) {
      found('no next run recorded');
      continue;
    }
    const job = await queue.getJob(`repeat:${d.key}:${scheduler.next}`);
    const state = job ? await job.getState() : 'missing';
    if (PENDING_STATES.has(state)) {
      if (every !== undefined && scheduler.next - now > every + graceMs && (startDate === undefined || now >= startDate)) {
        found(`next run ${new Date(scheduler.next).toISOString()} is further away than one interval`);
      }
      continue;
    }
    found(state === 'missing' ? 'next run missing from Redis' : `next run is ${state} and nothing newer is pending`);
  }
  return stalled;
}

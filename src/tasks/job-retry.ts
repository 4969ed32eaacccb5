import { CYCLE_JOB_NAME, isQueueName } from '../core/index.ts';
import { readTombstone, snapshotKey, tombstoneKey, type CancelledSnapshot } from './job-control.ts';
import { findJob, getJobView, type JobStore } from './job-store.ts';
import { indexJob } from './job-index.ts';
import type { JobView } from './job-view.ts';
import { forgetRecordedOutcome } from './run-recorder.ts';
import { writeJobLog } from './attempt-log.ts';

/**
 * Re-queuing a failed or cancelled job under its own id (Flower's retry), attempts kept: its attempt
 * log, job logs and attempt count carry on, and the paper fill stays once per job id.
 */
export type RetryResult = { outcome: 'retried'; view: JobView } | { outcome: 'refused'; view: JobView } | null;

export async function retryJob(store: JobStore, id: string, now: Date): Promise<RetryResult> {
  const view = await getJobView(store, id);
  if (!view) return null;
  if (view.status !== 'failed' && view.status !== 'cancelled') return { outcome: 'refused', view };
  const retriedAt = now.toISOString();
  const found = await findJob(store.queues, id);
  if (!found) {
    // A pending job cancelled before it ran was removed: add it again from what was kept.
    const raw = await store.redis.get(snapshotKey(store.keys, id));
    const snap = raw ? (JSON.parse(raw) as CancelledSnapshot) : null;
    if (!snap || !isQueueName(snap.queue)) return { outcome: 'refused', view: { ...view, error: 'the job was removed and cannot be re-created' } };
    await clearCancel(store, id);
    const job = await store.queues[snap.queue].add(snap.name || CYCLE_JOB_NAME, { ...snap.data, retried_at: retriedAt }, { ...snap.opts, jobId: id });
    // Its index entries may have been pruned while it was gone; workers index only a scheduler's runs.
    const data = snap.data as { ticker?: string; agent?: string; schedule_id?: string | null };
    await indexJob(store.redis, store.keys, { queue: snap.queue, jobId: id, createdAt: job.timestamp, ticker: data.ticker ?? '', agent: data.agent ?? '', schedule: data.schedule_id ?? null });
  } else {
    const { job, state } = found;
    await clearCancel(store, id);
    if (state === 'failed' || state === 'completed') {
      await job.updateData({ ...(job.data as Record<string, unknown>), retried_at: retriedAt });
      try {
        await job.retry(state);
      } catch {
        // Another retry (or a worker) moved it first.
        return { outcome: 'refused', view: (await getJobView(store, id)) ?? view };
      }
    }
    // A scheduler's run cancelled while still pending is only tombstoned: un-cancelling it lets it run when due.
    await writeJobLog(job, `re-queued by an operator (attempts so far: ${job.attemptsMade})`);
  }
  return { outcome: 'retried', view: (await getJobView(store, id)) ?? view };
}

async function clearCancel(store: JobStore, id: string): Promise<void> {
  if (await readTombstone(store.redis, store.keys, id)) await store.redis.del(tombstoneKey(store.keys, id));
  await store.redis.del(snapshotKey(store.keys, id));
  await forgetRecordedOutcome(store.redis, store.keys, id);
}

import type { Job, Queue } from 'bullmq';
import { cycleJobDataSchema, jobOutcomeSchema, QUEUE_NAMES, type FinalOutcome, type QueueName } from '../core/index.ts';
import { cycleRecord, type HistoryRecord, type HistoryStore } from '../history/index.ts';
import { dueTimeOf } from './cycle-processor.ts';

const PAGE = 200;

export interface BackfillProgress {
  queue: QueueName;
  examined: number;
  total: number;
}

export interface BackfillCount {
  /** Finished jobs Redis still holds that were looked at. */
  examined: number;
  /** Rows added to PostgreSQL (the others were there already). */
  added: number;
  /** Jobs whose data or outcome is not a cycle's, left out. */
  unreadable: number;
}

/**
 * The record of a finished job from what BullMQ keeps of it: its data, its return value (completed,
 * skipped, cancelled before it ran) or its final failure. Null for a job that is not a cycle.
 */
export function finishedJobRecord(job: Job, queue: QueueName, state: 'completed' | 'failed'): HistoryRecord | null {
  const data = cycleJobDataSchema.safeParse(job.data);
  if (!data.success || !job.id) return null;
  let outcome: FinalOutcome;
  if (state === 'completed') {
    const returned = jobOutcomeSchema.safeParse(job.returnvalue);
    if (!returned.success) return null;
    const r = returned.data;
    outcome = r.status === 'completed' ? r : r.status === 'skipped' ? { status: 'skipped', reason: r.reason, ...(r.detail ? { detail: r.detail } : {}) } : { status: 'cancelled', error: r.reason };
  } else {
    // A cycle cancelled while it ran fails as "cancelled: <reason>"; the worker recorded it as cancelled.
    const reason = job.failedReason ?? 'failed';
    outcome = reason.startsWith('cancelled: ') ? { status: 'cancelled', error: reason.slice('cancelled: '.length) } : { status: 'failed', error: reason };
  }
  const id = String(job.id);
  const finishedAt = job.finishedOn ?? job.processedOn ?? job.timestamp;
  return cycleRecord({ id, queue, data: data.data, dueAt: dueTimeOf(job, data.data), processedOn: job.processedOn, createdAt: job.timestamp, attempts: job.attemptsMade }, outcome, finishedAt);
}

/**
 * Adds to the durable history every finished cycle Redis still holds (BullMQ's kept completed and failed
 * jobs) that it lacks: for an install that set DATABASE_URL after it had been running. A row already there,
 * written by a worker, is never replaced. Safe to run again, and beside running workers.
 */
export async function backfillHistory(queues: Record<QueueName, Queue>, history: HistoryStore, onProgress?: (p: BackfillProgress) => void): Promise<BackfillCount> {
  const count: BackfillCount = { examined: 0, added: 0, unreadable: 0 };
  for (const queue of QUEUE_NAMES) {
    const q = queues[queue];
    const total = await q.getJobCountByTypes('completed', 'failed');
    let examined = 0;
    for (const state of ['completed', 'failed'] as const) {
      for (let start = 0; ; start += PAGE) {
        const jobs = (await q.getJobs([state], start, start + PAGE - 1, true)).filter(Boolean);
        if (!jobs.length) break;
        const records: HistoryRecord[] = [];
        for (const job of jobs) {
          const record = finishedJobRecord(job, queue, state);
          if (record) records.push(record);
          else count.unreadable++;
        }
        if (records.length) count.added += await history.addMissing(records);
        examined += jobs.length;
        count.examined += jobs.length;
        onProgress?.({ queue, examined, total });
        if (jobs.length < PAGE) break;
      }
    }
  }
  return count;
}

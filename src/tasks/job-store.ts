import { randomUUID } from 'node:crypto';
import type { Job, Queue } from 'bullmq';
import { CYCLE_JOB_NAME, cycleJobOptions, type CycleJobData, type QueueName } from '../core/index.ts';
import { toJobView, type JobView } from './job-view.ts';

export type QueueSet = Record<QueueName, Queue>;

/** Adds one trading cycle to a queue; the job id is a UUID the caller can poll. */
export async function enqueueCycle(queues: QueueSet, queue: QueueName, data: CycleJobData): Promise<JobView> {
  const job = await queues[queue].add(CYCLE_JOB_NAME, data, { ...cycleJobOptions(queue), jobId: randomUUID() });
  return toJobView(job, 'waiting', queue);
}

/** Finds a job by id in whichever queue holds it. */
export async function findJob(queues: QueueSet, id: string): Promise<{ job: Job; queue: QueueName; state: string } | null> {
  for (const [queue, q] of Object.entries(queues) as [QueueName, Queue][]) {
    const job = await q.getJob(id);
    if (job) return { job, queue, state: await job.getState() };
  }
  return null;
}

export async function getJobView(queues: QueueSet, id: string): Promise<JobView | null> {
  const found = await findJob(queues, id);
  return found ? toJobView(found.job, found.state, found.queue) : null;
}

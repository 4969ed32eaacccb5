import { randomUUID } from 'node:crypto';
import type { Job, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { CYCLE_JOB_NAME, cycleJobDataSchema, cycleJobOptions, PRIORITY_QUEUE, type AgentProfile, type CycleJobData, type JobStatus, type ProductKeys, type QueueName, type ScheduleEntry } from '../core/index.ts';
import { CANCEL_REASON, readTombstone, requestRunningCancel, writeTombstone } from './job-control.ts';
import { decodeCursor, encodeCursor, indexJob, readIndexPage, type JobFilter } from './job-index.ts';
import { toJobView, type JobView } from './job-view.ts';

export type QueueSet = Record<QueueName, Queue>;

/** The job store the API reads: BullMQ's job hashes, our index for listing, tombstones for cancels. */
export interface JobStore {
  redis: Redis;
  keys: ProductKeys;
  queues: QueueSet;
}

/** Adds one trading cycle to a queue; the job id is a UUID the caller can poll. */
export async function enqueueCycle(queues: QueueSet, queue: QueueName, data: CycleJobData, store?: Pick<JobStore, 'redis' | 'keys'>): Promise<JobView> {
  const job = await queues[queue].add(CYCLE_JOB_NAME, data, { ...cycleJobOptions(queue), jobId: randomUUID() });
  if (store) {
    await indexJob(store.redis, store.keys, { queue, jobId: String(job.id), createdAt: job.timestamp, ticker: data.ticker, agent: data.agent, schedule: data.schedule_id });
  }
  return toJobView(job, 'waiting', queue);
}

/** Finds a job by id in whichever queue holds it. */
export async function findJob(queues: QueueSet, id: string, hint?: QueueName): Promise<{ job: Job; queue: QueueName; state: string } | null> {
  const order = (Object.keys(queues) as QueueName[]).sort((a, b) => Number(b === hint) - Number(a === hint));
  for (const queue of order) {
    const job = await queues[queue].getJob(id);
    if (job) return { job, queue, state: await job.getState() };
  }
  return null;
}

export async function getJobView(store: JobStore | QueueSet, id: string): Promise<JobView | null> {
  const queues = 'queues' in store ? (store as JobStore).queues : (store as QueueSet);
  const found = await findJob(queues, id);
  if (found) {
    const view = toJobView(found.job, found.state, found.queue);
    // A tombstoned scheduler run that has not started yet is already cancelled for the user.
    if ('queues' in store && view.status === 'pending' && (await readTombstone((store as JobStore).redis, (store as JobStore).keys, id))) {
      return { ...view, status: 'cancelled', reason: CANCEL_REASON };
    }
    return view;
  }
  if ('queues' in store) {
    const tomb = await readTombstone((store as JobStore).redis, (store as JobStore).keys, id);
    if (tomb) return tomb as unknown as JobView;
  }
  return null;
}

export interface ListQuery extends JobFilter {
  status?: JobStatus;
  limit: number;
  cursor?: string;
}

/** Newest first, filtered, paginated with an opaque cursor; gone (retention-removed) jobs are skipped. */
export async function listJobs(store: JobStore, q: ListQuery): Promise<{ jobs: JobView[]; next_cursor: string | null }> {
  let cursor = q.cursor ? decodeCursor(q.cursor) : null;
  const jobs: JobView[] = [];
  let last: { createdAt: number; member: string } | null = null;
  // Bounded scan: a rare status filter must not walk the whole index in one request.
  for (let scanned = 0; jobs.length < q.limit && scanned < 5_000; ) {
    const page = await readIndexPage(store.redis, store.keys, q, cursor, Math.max(q.limit * 2, 50));
    if (page.length === 0) {
      last = null;
      break;
    }
    scanned += page.length;
    const pipeline = page.map(async (entry) => {
      const job = await store.queues[entry.queue]?.getJob(entry.jobId);
      return job ? { entry, job, state: await job.getState() } : { entry, job: null, state: 'missing' };
    });
    for (const { entry, job, state } of await Promise.all(pipeline)) {
      last = entry;
      if (!job) continue;
      const view = toJobView(job, state, entry.queue);
      if (q.ticker && view.ticker !== q.ticker) continue;
      if (q.agent && view.agent !== q.agent) continue;
      if (q.schedule && view.schedule_id !== q.schedule) continue;
      if (q.queue && view.queue !== q.queue) continue;
      if (q.status && view.status !== q.status) continue;
      jobs.push(view);
      if (jobs.length >= q.limit) break;
    }
    cursor = last ? { score: last.createdAt, member: last.member } : null;
  }
  return { jobs, next_cursor: jobs.length >= q.limit && last ? encodeCursor(last) : null };
}

export type CancelResult = { outcome: 'cancelled' | 'cancelling'; view: JobView } | { outcome: 'finished'; view: JobView } | null;

/** Cancels a job: pending → removed (or tombstoned), running → its worker is told to abort, finished → refused. */
export async function cancelJob(store: JobStore, id: string): Promise<CancelResult> {
  const found = await findJob(store.queues, id);
  if (!found) return null;
  const view = toJobView(found.job, found.state, found.queue);
  if (view.status === 'running') {
    // The tombstone covers a job that is active in Redis but not yet tracked by its worker process.
    await writeTombstone(store.redis, store.keys, id, { ...view, status: 'cancelled', reason: CANCEL_REASON });
    await requestRunningCancel(store.redis, store.keys, id);
    return { outcome: 'cancelling', view };
  }
  if (view.status !== 'pending') return { outcome: 'finished', view };
  const cancelled: JobView = { ...view, status: 'cancelled', reason: CANCEL_REASON, completed_at: new Date().toISOString() };
  await writeTombstone(store.redis, store.keys, id, cancelled);
  // A scheduler's pending run cannot be removed through BullMQ; the tombstone skips it when it starts.
  await found.job.remove().catch(() => undefined);
  return { outcome: 'cancelled', view: cancelled };
}

/**
 * A manual run of a schedule now, one job per ticker on the priority queue (a human never waits behind
 * a backlog). It ignores the market gate; callers that respect it check the calendar first.
 */
export async function enqueueManualCycles(store: JobStore, entry: ScheduleEntry, profile: AgentProfile, tickers: string[], now: Date): Promise<string[]> {
  const ids: string[] = [];
  for (const ticker of tickers) {
    const data = cycleJobDataSchema.parse({
      agent: entry.agent,
      ticker,
      schedule_id: entry.id,
      trigger: 'manual',
      dry_run: entry.dry_run,
      requested_at: now.toISOString(),
      market_hours: 'always',
      profile,
      overlap: 'allow',
      soft_time_limit_ms: entry.soft_time_limit ?? null,
      hard_time_limit_ms: entry.hard_time_limit ?? null,
    });
    ids.push((await enqueueCycle(store.queues, PRIORITY_QUEUE, data, store)).job_id);
  }
  return ids;
}

import { randomUUID } from 'node:crypto';
import type { Job, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { CYCLE_JOB_NAME, cycleJobDataSchema, readApproval, readApprovalStatuses, cycleJobOptions, PRIORITY_QUEUE, type AgentProfile, type CycleJobData, type Decision, type JobStatus, type ProductKeys, type QueueName, type ScheduleEntry } from '../core/index.ts';
import { CANCEL_REASON, readTombstone, requestRunningCancel, saveCancelledSnapshot, tombstoneKey, writeTombstone } from './job-control.ts';
import { decodeCursor, encodeCursor, indexJob, readIndexPage, type JobFilter } from './job-index.ts';
import { keepFinishedViews, readFinishedViews } from './finished-view-cache.ts';
import { readJobHashes } from './job-hashes.ts';
import { approvalJobStatus, toJobView, type JobView } from './job-view.ts';

export type QueueSet = Record<QueueName, Queue>;
/** CYCLE_ATTEMPTS and CYCLE_BACKOFF_MS (the config), so the documented retry settings reach every job. */
type QueueEnv = Parameters<typeof cycleJobOptions>[1];

/** The job store the API reads: BullMQ's job hashes, our index for listing, tombstones for cancels. */
export interface JobStore {
  redis: Redis;
  keys: ProductKeys;
  queues: QueueSet;
}

/** Adds one trading cycle to a queue; the job id is a UUID the caller can poll. */
export async function enqueueCycle(queues: QueueSet, queue: QueueName, data: CycleJobData, store: Pick<JobStore, 'redis' | 'keys'>, env?: QueueEnv): Promise<JobView> {
  // The id and creation time are ours, so the index is written alongside the add (one round trip's
  // wait for both). Should the add fail, the entry points at no job and the listing drops it.
  const jobId = randomUUID();
  const timestamp = Date.now();
  const [job] = await Promise.all([
    queues[queue].add(CYCLE_JOB_NAME, data, { ...cycleJobOptions(queue, env), jobId, timestamp }),
    indexJob(store.redis, store.keys, { queue, jobId, createdAt: timestamp, ticker: data.ticker, agent: data.agent, schedule: data.schedule_id }),
  ]);
  return toJobView(job, 'waiting', queue);
}

/** Finds a job by id in whichever queue holds it. */
export async function findJob(queues: QueueSet, id: string, hint?: QueueName): Promise<{ job: Job; queue: QueueName; state: string } | null> {
  const order = (Object.keys(queues) as QueueName[]).sort((a, b) => Number(b === hint) - Number(a === hint));
  for (const queue of order) {
    // State first, then the hash: read the other way round, a job finishing in between shows as
    // completed without its finish time (the hash was read while it was still active).
    const state = await queues[queue].getJobState(id);
    if (state === 'unknown') continue;
    const job = await queues[queue].getJob(id);
    if (job) return { job, queue, state };
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
    if ('queues' in store && view.status === 'awaiting_approval') {
      const approval = await readApproval((store as JobStore).redis, (store as JobStore).keys, id);
      if (approval) return { ...view, status: approvalJobStatus(approval.status), approval };
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
  decision?: Decision;
  limit: number;
  cursor?: string;
}

/** How many index entries one list request may examine before it answers with what it found and a cursor. */
export const LIST_SCAN_BUDGET = 5_000;

/**
 * Loads a page of jobs in one pipelined round trip (only the hash fields a view needs). The state is
 * read from the hash where it is certain — finished (completed/failed) or never started (pending) — so
 * only jobs that started and have not finished (running, or waiting for a retry) cost a state lookup.
 * A job removed when it was cancelled is shown from its tombstone; one removed by retention is null.
 */
async function loadViews(store: JobStore, entries: Array<{ queue: QueueName; jobId: string }>): Promise<Array<JobView | null>> {
  const refs = entries.map((e) => ({ queue: store.queues[e.queue], jobId: e.jobId }));
  const cached = await readFinishedViews(store.redis, refs);
  const views: Array<JobView | null> = cached.map((c) => (c && c !== 'miss' ? c.view : null));
  const missed = cached.map((c, i) => (c === 'miss' ? i : -1)).filter((i) => i >= 0);
  const jobs = await readJobHashes(store.redis, missed.map((i) => refs[i]!));
  const keep: Parameters<typeof keepFinishedViews>[1] = [];
  await Promise.all(
    jobs.map(async (job, k) => {
      if (!job) return;
      const i = missed[k]!;
      const queue = entries[i]!.queue;
      const state = job.finishedOn
        ? job.returnvalue !== null && job.returnvalue !== undefined
          ? 'completed'
          : 'failed'
        : job.processedOn
          ? await store.queues[queue].getJobState(String(job.id))
          : 'waiting';
      const view = toJobView(job, state, queue);
      views[i] = view;
      if (job.finishedOn && (state === 'completed' || state === 'failed')) keep.push({ ...refs[i]!, finishedOn: job.finishedOn, view });
    }),
  );
  keepFinishedViews(store.redis, keep);
  // Tombstones answer for removed jobs, and for a scheduler's pending run that could not be removed.
  const check = entries.map((_, i) => (!views[i] || views[i].status === 'pending' ? i : -1)).filter((i) => i >= 0);
  if (check.length) {
    const tombs = await store.redis.mget(...check.map((i) => tombstoneKey(store.keys, entries[i]!.jobId)));
    check.forEach((i, k) => {
      if (!tombs[k]) return;
      const tomb = JSON.parse(tombs[k]!) as JobView;
      views[i] = views[i] ? { ...views[i], status: 'cancelled', reason: CANCEL_REASON } : tomb;
    });
  }
  // Held decisions show how they were settled.
  const held = views.map((v, i) => (v?.status === 'awaiting_approval' ? i : -1)).filter((i) => i >= 0);
  const statuses = await readApprovalStatuses(store.redis, store.keys, held.map((i) => entries[i]!.jobId));
  held.forEach((i, k) => {
    if (statuses[k]) views[i] = { ...views[i]!, status: approvalJobStatus(statuses[k]!) };
  });
  return views;
}

function matches(view: JobView, q: ListQuery): boolean {
  return (
    (!q.ticker || view.ticker === q.ticker) &&
    (!q.agent || view.agent === q.agent) &&
    (!q.schedule || view.schedule_id === q.schedule) &&
    (!q.queue || view.queue === q.queue) &&
    (!q.status || view.status === q.status) &&
    (!q.decision || view.decision === q.decision) &&
    (q.from === undefined || Date.parse(view.created_at) >= q.from) &&
    (q.to === undefined || Date.parse(view.created_at) < q.to)
  );
}

/** Running jobs come from BullMQ's active lists, which hold at most the workers' slots. */
async function listRunning(store: JobStore, q: ListQuery): Promise<{ jobs: JobView[]; next_cursor: string | null }> {
  const cursor = q.cursor ? decodeCursor(q.cursor) : null;
  const names = (Object.keys(store.queues) as QueueName[]).filter((n) => !q.queue || n === q.queue);
  const found = (
    await Promise.all(names.map(async (queue) => (await store.queues[queue].getJobs(['active'])).map((job) => ({ queue, job }))))
  ).flat();
  const rows = found
    .map(({ queue, job }) => ({ view: toJobView(job, 'active', queue), createdAt: job.timestamp, member: `${queue}|${job.id}` }))
    .filter((r) => matches(r.view, q))
    .filter((r) => !cursor || r.createdAt < cursor.score || (r.createdAt === cursor.score && r.member < cursor.member))
    .sort((a, b) => b.createdAt - a.createdAt || (a.member < b.member ? 1 : -1));
  const page = rows.slice(0, q.limit);
  return { jobs: page.map((r) => r.view), next_cursor: rows.length > q.limit ? encodeCursor(page.at(-1)!) : null };
}

/** Newest first, filtered, paginated with an opaque cursor; jobs gone by retention are dropped from the index. */
export async function listJobs(store: JobStore, q: ListQuery): Promise<{ jobs: JobView[]; next_cursor: string | null }> {
  if (q.status === 'running') return listRunning(store, q);
  let cursor = q.cursor ? decodeCursor(q.cursor) : null;
  const jobs: JobView[] = [];
  let last: { createdAt: number; member: string } | null = null;
  let exhausted = false;
  let more = false;
  // Bounded scan: a rare status filter must not walk the whole index in one request.
  for (let scanned = 0; jobs.length < q.limit && scanned < LIST_SCAN_BUDGET; ) {
    const want = q.status ? Math.max(q.limit * 4, 200) : q.limit + 1 - jobs.length;
    const { key, entries } = await readIndexPage(store.redis, store.keys, q, cursor, want);
    if (entries.length === 0) {
      exhausted = true;
      break;
    }
    scanned += entries.length;
    const views = await loadViews(store, entries);
    const gone: string[] = [];
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i]!;
      const view = views[i];
      if (!view) {
        gone.push(entry.member);
        last = entry;
        continue;
      }
      const match = matches(view, q);
      if (match && jobs.length === q.limit) {
        // One more match exists beyond this page: the cursor points just before it.
        more = true;
        break;
      }
      last = entry;
      if (match) jobs.push(view);
    }
    if (gone.length) await store.redis.zrem(key, ...gone);
    if (more) return { jobs, next_cursor: encodeCursor(last!) };
    if (entries.length < want) {
      exhausted = true;
      break;
    }
    cursor = last ? { score: last.createdAt, member: last.member } : null;
  }
  // Out of budget before the page filled: hand back a cursor so the caller can continue the scan.
  return { jobs, next_cursor: !exhausted && last ? encodeCursor(last) : null };
}

export type CancelResult = { outcome: 'cancelled' | 'cancelling'; view: JobView } | { outcome: 'finished'; view: JobView } | null;

/** Cancels a job: pending → removed (or tombstoned), running → its worker is told to abort, finished → refused. */
export async function cancelJob(store: JobStore, id: string): Promise<CancelResult> {
  const found = await findJob(store.queues, id);
  // A cancelled pending job has left BullMQ (or, a scheduler's run, waits to be skipped): its tombstone answers.
  const tomb = !found || found.state !== 'active' ? await readTombstone(store.redis, store.keys, id) : null;
  if (!found) return tomb ? { outcome: 'finished', view: tomb as unknown as JobView } : null;
  const view = toJobView(found.job, found.state, found.queue);
  if (tomb && view.status === 'pending') return { outcome: 'finished', view: { ...view, status: 'cancelled', reason: CANCEL_REASON } };
  if (view.status === 'running') {
    // The tombstone covers a job that is active in Redis but not yet tracked by its worker process.
    await writeTombstone(store.redis, store.keys, id, { ...view, status: 'cancelled', reason: CANCEL_REASON });
    await requestRunningCancel(store.redis, store.keys, id);
    return { outcome: 'cancelling', view };
  }
  if (view.status !== 'pending') return { outcome: 'finished', view };
  const cancelled: JobView = { ...view, status: 'cancelled', reason: CANCEL_REASON, completed_at: new Date().toISOString() };
  await writeTombstone(store.redis, store.keys, id, cancelled);
  const { attempts, backoff, removeOnComplete, removeOnFail } = found.job.opts;
  await saveCancelledSnapshot(store.redis, store.keys, id, { queue: found.queue, name: found.job.name, data: found.job.data as Record<string, unknown>, opts: { attempts, backoff, removeOnComplete, removeOnFail } });
  // A scheduler's pending run cannot be removed through BullMQ; the tombstone skips it when it starts.
  await found.job.remove().catch(() => undefined);
  return { outcome: 'cancelled', view: cancelled };
}

/**
 * A manual run of a schedule now, one job per ticker on the priority queue (a human never waits behind
 * a backlog). It ignores the market gate; callers that respect it check the calendar first.
 */
export async function enqueueManualCycles(store: JobStore, entry: ScheduleEntry, profile: AgentProfile, tickers: string[], now: Date, date?: string, env?: QueueEnv): Promise<string[]> {
  const ids: string[] = [];
  for (const ticker of tickers) {
    const data = cycleJobDataSchema.parse({
      agent: entry.agent,
      ticker,
      schedule_id: entry.id,
      trigger: 'manual',
      dry_run: entry.dry_run,
      requested_at: now.toISOString(),
      ...(date ? { date } : {}),
      market_hours: 'always',
      profile,
      overlap: 'allow',
      soft_time_limit_ms: entry.soft_time_limit ?? null,
      hard_time_limit_ms: entry.hard_time_limit ?? null,
    });
    const opts = entry.attempts ? { ...env, CYCLE_ATTEMPTS: entry.attempts } : env;
    ids.push((await enqueueCycle(store.queues, PRIORITY_QUEUE, data, store, opts)).job_id);
  }
  return ids;
}

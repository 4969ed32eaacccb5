import { randomUUID } from 'node:crypto';
import { Worker, type Job } from 'bullmq';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BUILTIN_AGENTS,
  closeQueues,
  createRedisConnection,
  cycleJobDataSchema,
  openQueues,
  productKeys,
  type CycleJobInput,
  type QueueName,
} from '../../src/core/index.ts';
import { createApp } from '../../src/dashboard/index.ts';
import { cancelJob, enqueueCycle, getJobView, listJobs, type JobView } from '../../src/tasks/index.ts';
import { deletePrefix, silentLogger, testConfig, waitFor } from '../support/redis-test-env.ts';

/** The job store without worker processes: jobs are moved through their states by hand, as BullMQ allows. */
const config = testConfig('joblist');
const redis = createRedisConnection(config, 'producer');
const queues = openQueues(redis, config.QUEUE_PREFIX);
const keys = productKeys(config.QUEUE_PREFIX);
const store = { redis, keys, queues };
const manual = new Map<QueueName, Worker>();

const data = (ticker: string, over: Partial<CycleJobInput> = {}) =>
  cycleJobDataSchema.parse({ agent: 'quant', ticker, trigger: 'api', requested_at: new Date().toISOString(), profile: BUILTIN_AGENTS.quant, overlap: 'allow', ...over });

/** Takes the next job of a queue into `active`, as a worker would, and returns it with its lock token. */
async function take(queue: QueueName): Promise<{ job: Job; token: string }> {
  let w = manual.get(queue);
  if (!w) {
    w = new Worker(queue, null, { connection: createRedisConnection(config, 'worker'), prefix: config.QUEUE_PREFIX, lockDuration: 60_000 });
    manual.set(queue, w);
  }
  const token = randomUUID();
  const job = (await w.getNextJob(token)) as Job;
  return { job, token };
}

const ids: Record<string, string> = {};

beforeAll(async () => {
  await waitFor(() => redis.status === 'ready');
  // Oldest first: A1 completed, B1 failed, A2 running (priority queue), A3 skipped, C1 removed by retention, B2 pending, A4 pending.
  for (const [name, ticker, queue, over] of [
    ['A1', 'AAA', 'trading-cycle', { schedule_id: 'desk' }],
    ['B1', 'BBB', 'trading-cycle', {}],
    ['A2', 'AAA', 'trading-cycle-priority', {}],
    ['A3', 'AAA', 'trading-cycle', { schedule_id: 'desk' }],
    ['C1', 'CCC', 'trading-cycle', {}],
    ['B2', 'BBB', 'trading-cycle', {}],
    ['A4', 'AAA', 'trading-cycle', { agent: 'other' }],
  ] as const) {
    ids[name] = (await enqueueCycle(queues, queue, data(ticker, over), store)).job_id;
    await new Promise((r) => setTimeout(r, 3)); // distinct creation times, so the expected order is known
  }
  const a1 = await take('trading-cycle');
  await a1.job.moveToCompleted({ status: 'skipped', reason: 'stale' }, a1.token, false);
  const b1 = await take('trading-cycle');
  b1.job.opts.attempts = 1;
  await b1.job.moveToFailed(new Error('data source down'), b1.token, false);
  await take('trading-cycle-priority'); // A2 stays running
  const a3 = await take('trading-cycle');
  await a3.job.moveToCompleted({ status: 'skipped', reason: 'overlap', detail: 'x' }, a3.token, false);
  const c1 = await take('trading-cycle');
  await c1.job.moveToCompleted({ status: 'skipped', reason: 'stale' }, c1.token, false);
  await queues['trading-cycle'].remove(ids.C1!);
});

afterAll(async () => {
  await Promise.all([...manual.values()].map((w) => w.close(true)));
  await closeQueues(queues);
  redis.disconnect();
  await deletePrefix(config.QUEUE_PREFIX);
});

const order = (jobs: JobView[]) => jobs.map((j) => Object.keys(ids).find((k) => ids[k] === j.job_id));

describe('job list: newest first, filtered, paginated', () => {
  it('lists every kept job newest first with its status; one removed by retention is gone', async () => {
    const { jobs, next_cursor } = await listJobs(store, { limit: 50 });
    expect(order(jobs)).toEqual(['A4', 'B2', 'A3', 'A2', 'B1', 'A1']);
    expect(jobs.map((j) => j.status)).toEqual(['pending', 'pending', 'skipped', 'running', 'failed', 'skipped']);
    expect(next_cursor).toBeNull();
    // The dangling index entry was pruned while listing.
    expect(await redis.zscore(keys.custom('jobs', 'all'), `trading-cycle|${ids.C1}`)).toBeNull();
  });

  it('pages with an opaque cursor without gaps or repeats', async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await listJobs(store, { limit: 2, cursor });
      seen.push(...(order(page.jobs) as string[]));
      cursor = page.next_cursor ?? undefined;
      pages++;
    } while (cursor && pages < 10);
    expect(seen).toEqual(['A4', 'B2', 'A3', 'A2', 'B1', 'A1']);
    expect(pages).toBe(3);
  });

  it.each([
    [{ ticker: 'AAA' }, ['A4', 'A3', 'A2', 'A1']],
    [{ agent: 'other' }, ['A4']],
    [{ schedule: 'desk' }, ['A3', 'A1']],
    [{ queue: 'trading-cycle-priority' as QueueName }, ['A2']],
    [{ status: 'pending' as const }, ['A4', 'B2']],
    [{ status: 'running' as const }, ['A2']],
    [{ status: 'skipped' as const, ticker: 'AAA' }, ['A3', 'A1']],
    [{ status: 'failed' as const }, ['B1']],
  ])('filters %o', async (filter, expected) => {
    expect(order((await listJobs(store, { limit: 50, ...filter })).jobs)).toEqual(expected);
  });

  it('a cancelled pending job is removed yet still answers, as cancelled, in the list and by id', async () => {
    const r = await cancelJob(store, ids.B2!);
    expect(r?.outcome).toBe('cancelled');
    expect(await queues['trading-cycle'].getJob(ids.B2!)).toBeUndefined();
    expect((await getJobView(store, ids.B2!))?.status).toBe('cancelled');
    expect(order((await listJobs(store, { limit: 50, status: 'cancelled' })).jobs)).toEqual(['B2']);
    expect((await cancelJob(store, ids.A1!))?.outcome).toBe('finished');
    expect(await cancelJob(store, 'no-such-job')).toBeNull();
  });

  it('shows the job fields integrators poll', async () => {
    const running = await getJobView(store, ids.A2!);
    expect(running).toMatchObject({ status: 'running', queue: 'trading-cycle-priority', ticker: 'AAA', completed_at: null, attempts: 0 });
    expect(Date.parse(running!.started_at!)).toBeGreaterThanOrEqual(Date.parse(running!.created_at));
    const failed = await getJobView(store, ids.B1!);
    expect(failed).toMatchObject({ status: 'failed', error: 'data source down', attempts: 1 });
    expect(Date.parse(failed!.completed_at!)).toBeGreaterThanOrEqual(Date.parse(failed!.started_at!));
    expect(await getJobView(store, ids.A3!)).toMatchObject({ status: 'skipped', reason: 'overlap' });
  });
});

describe('finished views kept in the job hash', () => {
  const jobKey = (id: string) => queues['trading-cycle'].toKey(id);

  it('a list keeps each finished job\'s view beside its finish and reads it back the same; a stale or retried copy is not used', async () => {
    const first = await listJobs(store, { limit: 50 });
    // Kept off the request's path: wait for the copies of the finished jobs.
    await waitFor(async () => (await redis.hget(jobKey(ids.B1!), 'tl:view')) !== null && (await redis.hget(jobKey(ids.A1!), 'tl:view')) !== null);
    expect(await redis.hget(queues['trading-cycle-priority'].toKey(ids.A2!), 'tl:view')).toBeNull(); // running: never kept
    expect((await listJobs(store, { limit: 50 })).jobs).toEqual(first.jobs);
    // A copy that describes another finish is not used (a forged one would show up here).
    const forged = JSON.stringify({ f: '1', v: { ...first.jobs.find((j) => j.job_id === ids.A1)!, status: 'completed', decision: 'BUY' } });
    await redis.hset(jobKey(ids.A1!), 'tl:view', forged);
    expect((await listJobs(store, { ticker: 'AAA', limit: 50 })).jobs.find((j) => j.job_id === ids.A1)).toMatchObject({ status: 'skipped', reason: 'stale' });
    // Retried: BullMQ clears the finish, so the failed copy no longer answers.
    const b1 = await queues['trading-cycle'].getJob(ids.B1!);
    await b1!.retry('failed');
    const retried = (await listJobs(store, { limit: 50 })).jobs.find((j) => j.job_id === ids.B1);
    expect(retried?.status).toBe('pending');
    expect(retried?.error).toBeUndefined();
  });
});

describe('GET /api/jobs validation', () => {
  const app = () => createApp({ config, logger: silentLogger, redis, keys, queues, now: () => new Date() });

  it.each([
    [{ status: 'weird' }, 'status'],
    [{ limit: '0' }, 'limit'],
    [{ limit: '501' }, 'limit'],
    [{ ticker: 'not a ticker!' }, 'ticker'],
    [{ queue: 'nope' }, 'queue'],
    [{ cursor: 'not base64url!' }, 'cursor'],
    [{ bogus: '1' }, ''],
  ])('400 for %o naming the field', async (query, field) => {
    const res = await request(app()).get('/api/jobs').query(query);
    expect(res.status).toBe(400);
    expect(res.body.error).toBeTypeOf('string');
    expect(Array.isArray(res.body.details)).toBe(true);
    if (field) expect(res.body.details.map((d: { field: string }) => d.field)).toContain(field);
  });

  it('answers a page with next_cursor, and a job by id', async () => {
    const res = await request(app()).get('/api/jobs').query({ limit: 1, ticker: 'aaa' });
    expect(res.status).toBe(200);
    expect(order(res.body.jobs)).toEqual(['A4']);
    const next = await request(app()).get('/api/jobs').query({ limit: 1, ticker: 'aaa', cursor: res.body.next_cursor });
    expect(order(next.body.jobs)).toEqual(['A3']);
    expect((await request(app()).get(`/api/jobs/${ids.A1}`)).body).toMatchObject({ status: 'skipped', reason: 'stale' });
    expect((await request(app()).get('/api/jobs/unknown-id')).status).toBe(404);
    expect((await request(app()).delete(`/api/jobs/${ids.A1}`)).status).toBe(409);
  });
});

import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Job } from 'bullmq';
import request from 'supertest';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  BUILTIN_AGENTS,
  closeQueues,
  createRedisConnection,
  CYCLE_JOB_NAME,
  cycleJobDataSchema,
  cycleJobOptions,
  openQueues,
  productKeys,
  readCounters,
  type CycleJobInput,
  type QueueName,
} from '../../src/core/index.ts';
import { createApp } from '../../src/dashboard/index.ts';
import { deletePrefix, silentLogger, testConfig, waitFor } from '../support/redis-test-env.ts';
import { spawnWorker, type WorkerProcess } from '../support/worker-process.ts';

const config = testConfig('workers', { RESULTS_DIR: `/tmp/tradeloop-test-results/workers-${process.pid}` });
const env = {
  REDIS_URL: config.REDIS_URL,
  QUEUE_PREFIX: config.QUEUE_PREFIX,
  RESULTS_DIR: config.RESULTS_DIR,
  WORKER_HEARTBEAT_MS: '500',
  WORKER_LOCK_MS: '2000',
  WORKER_STALLED_INTERVAL_MS: '1000',
  WORKER_SHUTDOWN_MS: '5000',
};
const redis = createRedisConnection(config, 'worker');
const queues = openQueues(redis, config.QUEUE_PREFIX);
const keys = productKeys(config.QUEUE_PREFIX);
const workers: WorkerProcess[] = [];

async function worker(extra: Record<string, string> = {}, args: string[] = []): Promise<WorkerProcess> {
  const w = await spawnWorker({ ...env, ...extra }, args);
  workers.push(w);
  return w;
}

async function add(ticker: string, over: Partial<CycleJobInput> = {}, opts: { queue?: QueueName; attempts?: number; backoff?: number } = {}): Promise<Job> {
  const queue = opts.queue ?? 'trading-cycle';
  const data = cycleJobDataSchema.parse({ agent: 'quant', ticker, trigger: 'api', requested_at: new Date().toISOString(), profile: BUILTIN_AGENTS.quant, overlap: 'allow', ...over });
  const base = cycleJobOptions(queue);
  return queues[queue].add(CYCLE_JOB_NAME, data, {
    ...base,
    jobId: randomUUID(),
    attempts: opts.attempts ?? base.attempts,
    backoff: { ...base.backoff, delay: opts.backoff ?? 100 },
  });
}

async function settled(job: Job, timeoutMs = 15_000): Promise<{ state: string; job: Job }> {
  return waitFor(async () => {
    const fresh = await queues[job.queueName as QueueName].getJob(job.id!);
    const state = fresh ? await fresh.getState() : 'missing';
    return state === 'completed' || state === 'failed' ? { state, job: fresh! } : null;
  }, timeoutMs, 100);
}

afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.stop('SIGKILL')));
  await Promise.all(Object.values(queues).map((q) => q.drain(true)));
});
afterAll(async () => {
  await closeQueues(queues);
  redis.disconnect();
  await deletePrefix(config.QUEUE_PREFIX);
});

describe('worker execution semantics (real worker processes, real Redis)', () => {
  it('retries with backoff, then succeeds', async () => {
    await worker();
    const job = await add('FLAKY', {}, { attempts: 3, backoff: 200 });
    const { state, job: done } = await settled(job);
    expect(state).toBe('completed');
    expect(done.attemptsMade).toBe(3);
    expect(done.returnvalue.result.indicators.attempt).toBe(3);
  });

  it('does not retry an unrecoverable error', async () => {
    await worker();
    const job = await add('PERM', {}, { attempts: 3 });
    const { state, job: done } = await settled(job);
    expect(state).toBe('failed');
    expect(done.attemptsMade).toBe(1);
    expect(done.failedReason).toBe('unknown ticker PERM');
  });

  it('soft limit aborts the cycle cleanly; hard limit kills a hung one and the slot is freed', async () => {
    await worker({ CYCLE_SOFT_TIME_LIMIT_MS: '400', CYCLE_HARD_TIME_LIMIT_MS: '1200' }, ['--concurrency', '1']);
    const soft = await add('SLEEP50');
    const hard = await add('HANG');
    const after = await add('AFTER');
    const s = await settled(soft);
    expect(s.state).toBe('failed');
    expect(s.job.failedReason).toBe('soft time limit exceeded');
    expect(s.job.attemptsMade).toBe(1);
    const h = await settled(hard);
    expect(h.job.failedReason).toBe('hard time limit exceeded');
    expect((await settled(after)).state).toBe('completed');
  });

  it('recycles a sandbox child after N jobs', async () => {
    await worker({ WORKER_MAX_JOBS_PER_CHILD: '2' }, ['--concurrency', '1']);
    const pids: number[] = [];
    for (let i = 0; i < 5; i++) {
      const { job } = await settled(await add(`PID${i}`));
      pids.push(job.returnvalue.result.indicators.pid);
    }
    expect(pids[0]).toBe(pids[1]);
    expect(pids[1]).not.toBe(pids[2]);
    expect(new Set(pids).size).toBe(3);
    expect(pids).not.toContain(workers[0]!.pid);
  });

  it('kill -9 of a worker mid-job: another worker completes it, one result', async () => {
    const a = await worker({}, ['--concurrency', '1']);
    const job = await add('SLEEP20', { schedule_id: 'crash-test' });
    await waitFor(async () => (await job.getState()) === 'active', 10_000);
    await a.stop('SIGKILL');
    await worker();
    const { state, job: done } = await settled(job, 20_000);
    expect(state).toBe('completed');
    const dir = join(config.RESULTS_DIR, 'SLEEP20');
    const files = readdirSync(dir, { recursive: true }).filter((f) => String(f).includes(String(job.id)));
    expect(files).toHaveLength(1);
    expect(done.returnvalue.result.indicators.pid).not.toBe(a.pid);
  }, 30_000);

  it('graceful shutdown lets the running job finish', async () => {
    const w = await worker({}, ['--concurrency', '1']);
    const job = await add('SLEEP10');
    await waitFor(async () => (await job.getState()) === 'active', 10_000);
    const code = await w.stop('SIGTERM');
    expect(code).toBe(0);
    expect(await queues['trading-cycle'].getJob(job.id!).then((j) => j?.getState())).toBe('completed');
  });

  it('honours concurrency: never more than N cycles at once', async () => {
    await worker({}, ['--concurrency', '2', '--queues', 'trading-cycle']);
    const jobs = await Promise.all([1, 2, 3, 4, 5, 6].map(() => add('SLEEP4')));
    const done = await Promise.all(jobs.map((j) => settled(j)));
    const spans = done.map((d) => [d.job.returnvalue.result.indicators.started_at, d.job.returnvalue.result.indicators.finished_at] as [number, number]);
    const maxAtOnce = Math.max(...spans.map(([s]) => spans.filter(([a, b]) => a <= s && s < b).length));
    expect(maxAtOnce).toBeLessThanOrEqual(2);
    expect(maxAtOnce).toBe(2);
  });

  it('serves the priority queue while the default queue holds a backlog', async () => {
    await worker({}, ['--concurrency', '1']);
    const backlog = await Promise.all(Array.from({ length: 10 }, () => add('SLEEP3')));
    const urgent = await add('URGENT', {}, { queue: 'trading-cycle-priority' });
    await settled(urgent);
    const pending = await queues['trading-cycle'].getWaitingCount();
    expect(pending).toBeGreaterThan(3);
    void backlog;
  });

  it('skips stale and market-closed scheduled runs with the reason, and counts them', async () => {
    await worker();
    const stale = await add('STALE', { trigger: 'schedule', schedule_id: 'stale-test', requested_at: new Date(Date.now() - 600_000).toISOString(), interval_ms: 60_000 });
    const closed = await add('CLOSED', { trigger: 'schedule', schedule_id: 'closed-test', market_hours: 'regular', requested_at: '2026-11-28T15:00:00.000Z' });
    const caught = await add('CATCHUP', { trigger: 'schedule', schedule_id: 'catchup-test', requested_at: new Date(Date.now() - 600_000).toISOString(), interval_ms: 60_000, catch_up_ms: 3_600_000 });
    expect((await settled(stale)).job.returnvalue).toMatchObject({ status: 'skipped', reason: 'stale' });
    expect((await settled(closed)).job.returnvalue).toMatchObject({ status: 'skipped', reason: 'market_closed' });
    expect((await settled(caught)).job.returnvalue.status).toBe('completed');
    const counters = await readCounters(redis, keys);
    expect(counters.find((c) => c.name === 'cycles_skipped_total' && c.labels.schedule === 'stale-test')?.value).toBe(1);
    const last = JSON.parse((await redis.hget(keys.lastRuns, 'closed-test:CLOSED'))!);
    expect(last).toMatchObject({ status: 'skipped', reason: 'market_closed' });
  });

  it('overlap: a newly due cycle is skipped while the previous one of the pair runs', async () => {
    await worker({}, ['--concurrency', '4']);
    const pair = { trigger: 'schedule' as const, schedule_id: 'ov', overlap: 'skip' as const, interval_ms: 1000 };
    const first = await add('SLEEP15', pair);
    await waitFor(async () => (await first.getState()) === 'active');
    const second = await add('SLEEP15', pair);
    const other = await add('SLEEP15', { ...pair, schedule_id: 'other' });
    expect((await settled(second)).job.returnvalue).toMatchObject({ status: 'skipped', reason: 'overlap' });
    expect((await settled(first)).state).toBe('completed');
    expect((await settled(other)).job.returnvalue.status).toBe('completed');
  });
});

describe('job API over real workers', () => {
  const producer = createRedisConnection(config, 'producer');
  afterAll(() => producer.disconnect());
  const app = () => createApp({ config, logger: silentLogger, redis: producer, keys, queues, now: () => new Date() });

  it('cancels a pending job (404 unknown, 409 finished) and a running one', async () => {
    await waitFor(() => producer.status === 'ready');
    const a = app();
    const posted = await request(a).post('/api/jobs').send({ ticker: 'SPY' });
    const del = await request(a).delete(`/api/jobs/${posted.body.job_id}`);
    expect(del.status).toBe(200);
    expect(del.body.status).toBe('cancelled');
    expect((await request(a).get(`/api/jobs/${posted.body.job_id}`)).body.status).toBe('cancelled');
    expect((await request(a).delete('/api/jobs/nope')).status).toBe(404);

    await worker();
    const running = await add('SLEEP100', {}, { queue: 'trading-cycle-priority' });
    await waitFor(async () => (await running.getState()) === 'active', 10_000);
    expect((await request(a).delete(`/api/jobs/${running.id}`)).status).toBe(202);
    const { job: ended } = await settled(running);
    // Well before its 10 s: aborted while running, or skipped as cancelled if the worker had not started it yet.
    expect(ended.finishedOn! - ended.timestamp).toBeLessThan(8_000);
    expect((await request(a).get(`/api/jobs/${running.id}`)).body.status).toBe('cancelled');
    expect((await request(a).delete(`/api/jobs/${running.id}`)).status).toBe(409);
  });

  it('lists jobs newest first with filters and pagination; 400 on bad filters', async () => {
    const a = app();
    await worker();
    const ids: string[] = [];
    for (const t of ['AAA', 'BBB', 'AAA', 'CCC', 'AAA']) ids.push((await request(a).post('/api/jobs').send({ ticker: t })).body.job_id);
    await waitFor(async () => (await request(a).get('/api/jobs').query({ ticker: 'AAA', status: 'completed' })).body.jobs.length === 3, 15_000);
    const page1 = await request(a).get('/api/jobs').query({ limit: 2 });
    expect(page1.body.jobs).toHaveLength(2);
    expect(page1.body.jobs[0].job_id).toBe(ids[4]);
    const page2 = await request(a).get('/api/jobs').query({ limit: 2, cursor: page1.body.next_cursor });
    expect(page2.body.jobs.map((j: { job_id: string }) => j.job_id)).toEqual([ids[2], ids[1]]);
    const aaa = await request(a).get('/api/jobs').query({ ticker: 'aaa' });
    expect(aaa.body.jobs.map((j: { job_id: string }) => j.job_id)).toEqual([ids[4], ids[2], ids[0]]);
    expect((await request(a).get('/api/jobs').query({ status: 'weird' })).status).toBe(400);
    expect((await request(a).get('/api/jobs').query({ limit: 0 })).body.details[0].field).toBe('limit');
    expect((await request(a).get('/api/jobs').query({ bogus: 1 })).status).toBe(400);
  });

  it('GET /api/workers reports live workers; /api/queues reports depths', async () => {
    const a = app();
    const w = await worker({}, ['--queues', 'trading-cycle-priority', '--concurrency', '3']);
    const res = await waitFor(async () => {
      const r = await request(a).get('/api/workers');
      return r.body.workers.find((x: { pid: number }) => x.pid === w.pid) ? r : null;
    });
    const me = res.body.workers.find((x: { pid: number }) => x.pid === w.pid);
    expect(me).toMatchObject({ online: true, queues: ['trading-cycle-priority'], concurrency: 3, sandbox: true });
    const q = await request(a).get('/api/queues');
    expect(q.body.queues.map((x: { name: string }) => x.name)).toEqual(['trading-cycle', 'trading-cycle-priority']);
    expect(typeof q.body.queues[0].counts.waiting).toBe('number');
    await w.stop('SIGKILL');
    await waitFor(async () => (await request(a).get('/api/workers')).body.workers.find((x: { pid: number }) => x.pid === w.pid)?.online === false, 5_000);
  });

  it('writes result files under RESULTS_DIR/<TICKER>/<date>/<job_id>.json', () => {
    expect(existsSync(join(config.RESULTS_DIR, 'AAA'))).toBe(true);
  });
});

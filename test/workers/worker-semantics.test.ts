import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Job } from 'bullmq';
import request from 'supertest';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { loadCommand, type CliCommand } from '../../src/cli/index.ts';
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
import { indexJob, readWorkers } from '../../src/tasks/index.ts';
import { deletePrefix, silentLogger, testConfig, waitFor } from '../support/redis-test-env.ts';
import { spawnWorker, type WorkerProcess } from '../support/worker-process.ts';


const cancelCommand = await loadCommand('cancel');
const inspectCommand = await loadCommand('inspect');
const jobsCommand = await loadCommand('jobs');
const queuesCommand = await loadCommand('queues');
/**
 * Execution semantics with real worker processes (`bin/worker.mjs`) on real Redis. Every test that
 * spawns processes lives in this one file, so they never compete with each other for the CPU.
 */
const config = testConfig('workers', { RESULTS_DIR: `/tmp/tradeloop-test-results/workers-${process.pid}` });
const env = {
  REDIS_URL: config.REDIS_URL,
  QUEUE_PREFIX: config.QUEUE_PREFIX,
  RESULTS_DIR: config.RESULTS_DIR,
  WORKER_HEARTBEAT_MS: '500',
  // Short enough for quick stalled recovery, long enough for lock renewals on a busy 2-core machine.
  WORKER_LOCK_MS: '3000',
  WORKER_STALLED_INTERVAL_MS: '1000',
  WORKER_MAX_STALLED: '1',
  WORKER_SHUTDOWN_MS: '5000',
};
const redis = createRedisConnection(config, 'worker');
const producer = createRedisConnection(config, 'producer');
const queues = openQueues(redis, config.QUEUE_PREFIX);
const keys = productKeys(config.QUEUE_PREFIX);
const workers: WorkerProcess[] = [];
const app = () => createApp({ config, logger: silentLogger, redis: producer, keys, queues, now: () => new Date() });

async function worker(extra: Record<string, string> = {}, args: string[] = []): Promise<WorkerProcess> {
  const w = await spawnWorker({ ...env, ...extra }, args);
  workers.push(w);
  return w;
}

async function add(ticker: string, over: Partial<CycleJobInput> = {}, opts: { queue?: QueueName; attempts?: number; backoff?: number } = {}): Promise<Job> {
  const queue = opts.queue ?? 'trading-cycle';
  const data = cycleJobDataSchema.parse({ agent: 'quant', ticker, trigger: 'api', requested_at: new Date().toISOString(), profile: BUILTIN_AGENTS.quant, overlap: 'allow', ...over });
  const base = cycleJobOptions(queue);
  const job = await queues[queue].add(CYCLE_JOB_NAME, data, { ...base, jobId: randomUUID(), attempts: opts.attempts ?? base.attempts, backoff: { ...base.backoff, delay: opts.backoff ?? 100 } });
  // Indexed as the product's producers index the jobs they enqueue (workers index only a scheduler's runs).
  await indexJob(producer, keys, { queue, jobId: job.id!, createdAt: job.timestamp, ticker: data.ticker, agent: data.agent, schedule: data.schedule_id });
  return job;
}

async function settled(job: Job, timeoutMs = 15_000): Promise<{ state: string; job: Job }> {
  const queue = queues[job.queueName as QueueName];
  return waitFor(async () => {
    // State first: a hash read before the state could predate the job's finish.
    const state = await queue.getJobState(job.id!);
    if (state !== 'completed' && state !== 'failed') return null;
    return { state, job: (await queue.getJob(job.id!))! };
  }, timeoutMs, 100);
}

const lastRun = async (pair: string) => JSON.parse((await redis.hget(keys.lastRuns, pair)) ?? 'null') as Record<string, unknown> | null;
const alive = (w: WorkerProcess) => w.proc.exitCode === null && w.proc.signalCode === null;
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Runs a CLI command in this process (the same module `tradeloop <command>` loads) and returns its exit code and output. */
async function cli(command: CliCommand, args: string[], extra: Record<string, string> = {}) {
  let out = '';
  let err = '';
  const code = await command.run(args, { stdout: (t) => (out += t), stderr: (t) => (err += t), env: { REDIS_URL: config.REDIS_URL, QUEUE_PREFIX: config.QUEUE_PREFIX, ...extra } });
  return { code, out, err };
}

afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.stop('SIGKILL')));
  await Promise.all(Object.values(queues).map((q) => q.obliterate({ force: true })));
  // Killed workers leave a heartbeat that looks fresh for a moment; the next test starts with none.
  await redis.del(keys.workers);
});
afterAll(async () => {
  await closeQueues(queues);
  redis.disconnect();
  producer.disconnect();
  await deletePrefix(config.QUEUE_PREFIX);
});

describe('retries, limits, recycling', () => {
  it('retries with backoff, then succeeds', async () => {
    await worker();
    const job = await add('FLAKY', {}, { attempts: 3, backoff: 200 });
    const { state, job: done } = await settled(job);
    expect(state).toBe('completed');
    expect(done.attemptsMade).toBe(3);
    expect(done.returnvalue.result.indicators.attempt).toBe(3);
  });

  it('no retry for an unrecoverable error; a crashing cycle costs only its sandbox child and is retried', async () => {
    const w = await worker({}, ['--concurrency', '1']);
    const perm = await add('PERM', {}, { attempts: 3 });
    const crash = await add('CRASH', {}, { attempts: 2 });
    const after = await add('AFTER');
    const p = await settled(perm);
    expect(p.state).toBe('failed');
    expect(p.job.attemptsMade).toBe(1);
    expect(p.job.failedReason).toBe('unknown ticker PERM');
    const c = await settled(crash);
    expect(c.job.failedReason).toMatch(/^sandbox child exited unexpectedly \(code 1\)$/);
    expect(c.job.attemptsMade, JSON.stringify({ stacktrace: c.job.stacktrace, stalled: c.job.stalledCounter })).toBe(2);
    expect((await settled(after)).job.returnvalue.status).toBe('completed');
    expect(alive(w)).toBe(true);
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
    for (let i = 0; i < 5; i++) pids.push((await settled(await add(`PID${i}`))).job.returnvalue.result.indicators.pid);
    expect(pids[0]).toBe(pids[1]);
    expect(pids[1]).not.toBe(pids[2]);
    expect(new Set(pids).size).toBe(3);
    expect(pids).not.toContain(workers[0]!.pid);
  });

  it('honours concurrency: never more than N cycles at once', async () => {
    await worker({}, ['--concurrency', '2', '--queues', 'trading-cycle']);
    const jobs = await Promise.all([1, 2, 3, 4, 5, 6].map(() => add('SLEEP4')));
    const done = await Promise.all(jobs.map((j) => settled(j)));
    expect(done.map((d) => d.job.failedReason ?? d.state)).toEqual(Array(6).fill('completed'));
    const spans = done.map((d) => [d.job.returnvalue.result.indicators.started_at, d.job.returnvalue.result.indicators.finished_at] as [number, number]);
    const maxAtOnce = Math.max(...spans.map(([s]) => spans.filter(([a, b]) => a <= s && s < b).length));
    expect(maxAtOnce).toBe(2);
  });

  it('serves the priority queue while the default queue holds a backlog', async () => {
    await worker({}, ['--concurrency', '1']);
    await Promise.all(Array.from({ length: 10 }, () => add('SLEEP3')));
    await settled(await add('URGENT', {}, { queue: 'trading-cycle-priority' }));
    expect(await queues['trading-cycle'].getWaitingCount()).toBeGreaterThan(3);
  });
});

describe('crash safety and shutdown', () => {
  it('kill -9 of a worker mid-job: another worker completes it, one result', async () => {
    const a = await worker({}, ['--concurrency', '1']);
    const job = await add('SLEEP20', { schedule_id: 'crash-test' });
    await waitFor(async () => (await job.getState()) === 'active', 10_000);
    const [child] = await waitFor(async () => (await readWorkers(redis, keys)).find((x) => x.pid === a.pid && x.sandbox_pids.length)?.sandbox_pids, 5_000);
    await a.stop('SIGKILL');
    // Its sandbox child notices the closed channel and exits: no orphan keeps running the cycle.
    await waitFor(() => !processAlive(child!), 5_000);
    await worker();
    const { state, job: done } = await settled(job, 20_000);
    expect(state).toBe('completed');
    // The result file follows the completion, off the job's critical path.
    const filesOf = () => (existsSync(join(config.RESULTS_DIR, 'SLEEP20')) ? readdirSync(join(config.RESULTS_DIR, 'SLEEP20'), { recursive: true }) : []).filter((f) => String(f).includes(String(job.id)) && String(f).endsWith('.json'));
    await waitFor(() => filesOf().length > 0, 10_000);
    expect(filesOf()).toHaveLength(1);
    expect(done.returnvalue.result.indicators.pid).not.toBe(a.pid);
  });

  it('a job that keeps killing its worker (in-process mode) ends failed after the stall limit, with the reason recorded', async () => {
    const job = await add('CRASH', { schedule_id: 'crashy' });
    let starts = 0;
    // Like PM2: whenever no worker is alive, start another one.
    await waitFor(
      async () => {
        if ((await job.getState()) === 'failed') return true;
        if (!workers.some(alive)) {
          starts++;
          await worker({ WORKER_SANDBOX: '0' }).catch(() => undefined); // it may die on the job before it reports started
        }
        return false;
      },
      40_000,
      200,
    );
    expect((await queues['trading-cycle'].getJob(job.id!))!.failedReason).toBe('job stalled more than allowable limit');
    expect(starts).toBeGreaterThanOrEqual(2);
    await waitFor(async () => (await lastRun('crashy:CRASH'))?.status === 'failed');
    expect(await lastRun('crashy:CRASH')).toMatchObject({ job_id: job.id, reason: 'job stalled more than allowable limit' });
  }, 50_000);

  it('graceful shutdown lets the running job finish; meanwhile its progress and child log lines are visible', async () => {
    const w = await worker({ LOG_LEVEL: 'debug' }, ['--concurrency', '1']);
    await waitFor(() => producer.status === 'ready');
    const job = await add('SLEEP15');
    const view = await waitFor(async () => {
      const r = await request(app()).get(`/api/jobs/${job.id}`);
      return r.body.status === 'running' && r.body.progress?.stage ? r.body : null;
    }, 10_000);
    expect(view.progress).toEqual({ stage: 'fetching data', percent: 10 });
    expect(view.worker).toContain(`:${w.pid}:`);
    expect(await w.stop('SIGTERM')).toBe(0);
    expect(await job.getState()).toBe('completed');
    const lines = w.logs.filter((l) => l.msg === 'progress' && l.jobId === job.id);
    expect(lines.map((l) => l.stage)).toEqual(['fetching data', 'decision']);
    for (const line of lines) expect(line).toMatchObject({ agent: 'quant', ticker: 'SLEEP15', attempt: 1, queue: 'trading-cycle' });
    expect(lines[0]!.pid).not.toBe(w.pid); // written by the sandbox child
  });

  it('past the shutdown deadline a running cycle is left for stalled recovery, without spending an attempt', async () => {
    const a = await worker({ WORKER_SHUTDOWN_MS: '500' }, ['--concurrency', '1']);
    const job = await add('SLEEP30');
    await waitFor(async () => (await job.getState()) === 'active', 10_000);
    expect(await a.stop('SIGTERM')).toBe(0);
    expect(a.logs.some((l) => String(l.msg).includes('shutdown deadline'))).toBe(true);
    expect(await job.getState()).toBe('active');
    await worker();
    const { job: done } = await settled(job, 20_000);
    expect(done.returnvalue.status).toBe('completed');
    expect(done.attemptsMade).toBe(1);
    expect(done.stalledCounter).toBe(1);
  }, 35_000);
});

describe('admission through workers', () => {
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
    expect(await lastRun('closed-test:CLOSED')).toMatchObject({ status: 'skipped', reason: 'market_closed' });
  });

  it('a stream due every second with 3 s cycles, on two workers, never runs two cycles of a pair at once; the skips are counted', async () => {
    await Promise.all([worker({}, ['--concurrency', '2']), worker({}, ['--concurrency', '2'])]);
    const data = cycleJobDataSchema.parse({ agent: 'quant', ticker: 'SLEEP30', schedule_id: 'stream', trigger: 'schedule', profile: BUILTIN_AGENTS.quant, overlap: 'skip', interval_ms: 1000 });
    await queues['trading-cycle'].upsertJobScheduler('stream:SLEEP30', { every: 1000 }, { name: CYCLE_JOB_NAME, data, opts: cycleJobOptions('trading-cycle') });
    await new Promise((r) => setTimeout(r, 6_000));
    await queues['trading-cycle'].removeJobScheduler('stream:SLEEP30');
    await waitFor(async () => (await queues['trading-cycle'].getActiveCount()) === 0, 15_000, 200);
    const jobs = (await queues['trading-cycle'].getJobs(['completed'])).filter((j) => j.data.schedule_id === 'stream');
    expect(jobs.every((j) => j.id!.startsWith('repeat:stream:SLEEP30:'))).toBe(true);
    const ran = jobs.filter((j) => j.returnvalue.status === 'completed').map((j) => j.returnvalue.result.indicators as { started_at: number; finished_at: number });
    const skipped = jobs.filter((j) => j.returnvalue.status === 'skipped');
    expect(ran.length).toBeGreaterThanOrEqual(1);
    expect(skipped.length).toBeGreaterThanOrEqual(2);
    expect(skipped.every((j) => j.returnvalue.reason === 'overlap')).toBe(true);
    for (const x of ran) for (const y of ran) if (x !== y) expect(x.finished_at <= y.started_at || y.finished_at <= x.started_at).toBe(true);
    const counted = (await readCounters(redis, keys)).find((c) => c.name === 'cycles_skipped_total' && c.labels.schedule === 'stream' && c.labels.reason === 'overlap');
    expect(counted?.value).toBe(skipped.length);
  }, 40_000);
});

describe('cancel, inspect and queues over real workers', () => {
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

  it('inspect ping|active|stats|registered, queues, jobs and cancel from the CLI; /api/workers and /api/queues; offline after silence', async () => {
    const none = await cli(inspectCommand, ['ping']);
    expect(none.code).toBe(1);
    expect(none.out).toContain('no worker answered');
    expect((await cli(jobsCommand, ['--status', 'weird'])).code).toBe(2);
    expect((await cli(inspectCommand, ['nonsense'])).code).toBe(2);
    const down = await Promise.all([inspectCommand, queuesCommand, jobsCommand].map((c) => cli(c, c === inspectCommand ? ['ping'] : [], { REDIS_URL: 'redis://127.0.0.1:1' })));
    expect(down.map((d) => d.code)).toEqual([3, 3, 3]);

    const w = await worker({}, ['--queues', 'trading-cycle-priority', '--concurrency', '3']);
    const running = await add('SLEEP99', {}, { queue: 'trading-cycle-priority' });
    await waitFor(async () => (await running.getState()) === 'active', 10_000);
    const ping = await cli(inspectCommand, ['ping', '--json']);
    expect(ping.code).toBe(0);
    expect(JSON.parse(ping.out)).toEqual([expect.objectContaining({ ok: 'pong' })]);
    const active = await waitFor(async () => {
      const r = JSON.parse((await cli(inspectCommand, ['active', '--json'])).out) as Record<string, Array<{ job_id: string }>>;
      return Object.values(r)[0]?.length ? r : null;
    }, 5_000);
    expect(Object.values(active)[0]!.map((x) => x.job_id)).toEqual([running.id]);
    expect(JSON.parse((await cli(inspectCommand, ['stats', '--json'])).out)[0]).toMatchObject({ pid: w.pid, concurrency: 3, sandbox: true, online: true });
    expect(Object.values(JSON.parse((await cli(inspectCommand, ['registered', '--json'])).out))).toEqual([[{ queue: 'trading-cycle-priority', job: CYCLE_JOB_NAME }]]);
    const depth = JSON.parse((await cli(queuesCommand, ['--json'])).out) as Array<{ name: string; counts: Record<string, number> }>;
    expect(depth.map((q) => q.name)).toEqual(['trading-cycle', 'trading-cycle-priority']);
    expect(depth[1]!.counts.active).toBe(1);

    const apiWorkers = await request(app()).get('/api/workers');
    expect(apiWorkers.body.workers.find((x: { pid: number }) => x.pid === w.pid)).toMatchObject({ online: true, queues: ['trading-cycle-priority'], concurrency: 3, sandbox: true });
    const apiQueues = await request(app()).get('/api/queues');
    expect(apiQueues.body.queues[1]).toMatchObject({ name: 'trading-cycle-priority', paused: false, counts: { active: 1, paused: 0 } });

    const cancel = await cli(cancelCommand, [running.id!, '--json']);
    expect(cancel.code).toBe(0);
    expect(JSON.parse(cancel.out)).toMatchObject({ outcome: 'cancelling' });
    await settled(running);
    expect(JSON.parse((await cli(jobsCommand, ['--status', 'cancelled', '--ticker', 'sleep99', '--json'])).out).map((j: { job_id: string }) => j.job_id)).toEqual([running.id]);
    expect((await cli(cancelCommand, [running.id!])).code).toBe(1);

    await w.stop('SIGKILL');
    await waitFor(async () => (await request(app()).get('/api/workers')).body.workers.find((x: { pid: number }) => x.pid === w.pid)?.online === false, 5_000);
  });
});

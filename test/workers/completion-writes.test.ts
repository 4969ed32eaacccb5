import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker, type Job } from 'bullmq';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MarketCalendar } from '../../src/calendar/index.ts';
import {
  BUILTIN_AGENTS,
  closeQueues,
  createRedisConnection,
  CYCLE_JOB_NAME,
  cycleJobDataSchema,
  cycleJobOptions,
  openQueues,
  productKeys,
  ZERO_USAGE,
  type CycleResult,
  type JobOutcome,
} from '../../src/core/index.ts';
import { recordingAttempts } from '../../src/tasks/attempt-log.ts';
import { CompletionWrites } from '../../src/tasks/completion-writes.ts';
import { createCycleProcessor } from '../../src/tasks/cycle-processor.ts';
import type { CycleFunction } from '../../src/tasks/cycle-execution.ts';
import { createInProcessRunner } from '../../src/tasks/in-process-runner.ts';
import { OnceWrites } from '../../src/tasks/once-writes.ts';
import { overlapLeaseKey } from '../../src/tasks/overlap-lease.ts';
import { StartsOnFetch } from '../../src/tasks/start-on-fetch.ts';
import { createResultFileWriter } from '../../src/tasks/result-files.ts';
import { readAttemptLog } from '../../src/tasks/index.ts';
import { startRedisServer, type RedisProcess } from '../support/redis-deployments.ts';
import { silentLogger, testConfig, waitFor } from '../support/redis-test-env.ts';

/**
 * A completed job's end rides on BullMQ's completion (one Lua call): against a real Redis (a private
 * redis-server, whose command statistics are this file's alone) and a real BullMQ Worker built with
 * our backend, the way the worker service builds it.
 */
let server: RedisProcess;
let redisUrl = '';
beforeAll(async () => {
  server = await startRedisServer();
  redisUrl = `redis://127.0.0.1:${server.port}`;
});
const dirs: string[] = [];
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});
afterAll(async () => {
  await server?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const analysisOf = (ticker: string, decision: CycleResult['decision']): CycleResult => {
  const now = new Date().toISOString();
  return {
    ticker, date: now.slice(0, 10), agent: 'rider', decision, rating: 'Hold', confidence: 0.5, price: 100,
    reports: { market: '', fundamentals: '', news: '', sentiment: '', debate: '', trader: '', risk: '', final: decision },
    indicators: {}, data_source: 'test', engine: 'quant', models: [], usage: ZERO_USAGE, started_at: now, finished_at: now, dry_run: true, fill: null,
  };
};

function harness(name: string, cycle: CycleFunction) {
  const dir = mkdtempSync(join(tmpdir(), 'tl-completion-'));
  dirs.push(dir);
  const config = testConfig(name, { REDIS_URL: redisUrl, RESULTS_DIR: join(dir, 'results') });
  const keys = productKeys(config.QUEUE_PREFIX);
  const redis = createRedisConnection(config, 'worker');
  const queues = openQueues(redis, config.QUEUE_PREFIX);
  const results = createResultFileWriter({ dir: config.RESULTS_DIR, logger: silentLogger, pending: { redis, keys } });
  const completions = new CompletionWrites(redis, new StartsOnFetch(keys, 'w-test'));
  const processor = recordingAttempts(
    createCycleProcessor(
      { config, logger: silentLogger, redis, keys, results, completions, calendar: new MarketCalendar({ extraClosures: [] }), runner: createInProcessRunner(config, redis, silentLogger, cycle) },
      'trading-cycle',
    ),
    { redis, keys, worker: 'w-test' },
  );
  const worker = new Worker('trading-cycle', processor, { connection: createRedisConnection(config, 'worker'), prefix: config.QUEUE_PREFIX, concurrency: 2, lockDuration: 30_000 }, completions.backend());
  const errors: Error[] = [];
  worker.on('error', (err) => errors.push(err));
  closers.push(async () => {
    await worker.close(true);
    await results.flush(2_000);
    await closeQueues(queues);
    redis.disconnect();
  });
  const add = (ticker: string, opts: { jobId?: string; data?: Record<string, unknown> } = {}): Promise<Job> =>
    queues['trading-cycle'].add(
      CYCLE_JOB_NAME,
      cycleJobDataSchema.parse({ agent: 'rider', ticker, trigger: 'manual', requested_at: new Date().toISOString(), profile: BUILTIN_AGENTS.quant, overlap: 'allow', ...opts.data }),
      { ...cycleJobOptions('trading-cycle'), attempts: 1, jobId: opts.jobId ?? randomUUID() },
    );
  const state = (id: string) => queues['trading-cycle'].getJobState(id);
  return { config, keys, redis, worker, completions, errors, add, state, queue: queues['trading-cycle'] };
}

describe('a completed job ends in the Lua call that completes it', () => {
  it('records the outcome, the analysis and the attempt with the completion, and the next job’s start with its fetch: two Lua calls per job, as bare BullMQ', async () => {
    let cycles = 0;
    const h = harness('ride', async (data) => {
      cycles++;
      return analysisOf(data.ticker, 'BUY');
    });
    // A Redis of this test's own: its command statistics count the Lua calls these jobs cost.
    const luaCalls = async () => {
      const stats = await h.redis.info('commandstats');
      return [...stats.matchAll(/^cmdstat_(?:evalsha|eval):calls=(\d+)/gm)].reduce((n, m) => n + Number(m[1]), 0);
    };
    const tickers = Array.from({ length: 20 }, (_, i) => `T${i}`);
    const before = await luaCalls();
    const jobs = await Promise.all(tickers.map((t) => h.add(t)));
    // Watched with a plain command, so that only the jobs' own Lua calls are counted.
    await waitFor(async () => (await h.redis.zcard(`${h.config.QUEUE_PREFIX}:trading-cycle:completed`)) === jobs.length, 10_000);
    const calls = (await luaCalls()) - before;
    // Each job: BullMQ's add, and the completion with our end that fetches the next job with its start
    // (apart, four). The rest are the Worker's fetches while it was idle (each with the fetched job's
    // start) and each script's first run on this new server.
    expect(cycles).toBe(jobs.length);
    expect(calls).toBeGreaterThanOrEqual(2 * jobs.length);
    expect(calls).toBeLessThan(2 * jobs.length + 12);
    for (const job of jobs) {
      const id = job.id!;
      const done = (await h.queue.getJob(id))!;
      const returned = done.returnvalue as JobOutcome & { status: 'completed' };
      expect(returned.status).toBe('completed');
      expect(returned.result.decision).toBe('BUY');
      expect(await h.redis.get(h.keys.custom('recorded', id))).toBe('completed');
      expect(JSON.parse((await h.redis.get(h.keys.custom('analysis', id)))!)).toMatchObject({ decision: 'BUY', ticker: job.data.ticker });
      const attempts = await readAttemptLog(h.redis, h.keys, id, false);
      expect(attempts.map((a) => [a.attempt, a.outcome, a.worker])).toEqual([[1, 'completed', 'w-test']]);
      expect(Date.parse(attempts[0]!.started_at)).toBeLessThanOrEqual(Date.parse(attempts[0]!.ended_at!));
      // One start and one end in the job's log (Bull Board's), whichever call wrote the start.
      const { logs } = await h.queue.getJobLogs(id);
      expect(logs.map((l) => l.replace(/^\S+ /, ''))).toEqual(['attempt 1 started on w-test', 'attempt 1 completed: BUY (confidence 0.5)']);
    }
    expect(h.completions.size).toBe(0);
    expect(h.errors).toEqual([]);
  });

  it('a lost lock: BullMQ refuses the completion, and the outcome and its analysis stay on record for the run that takes the job over', async () => {
    let lockKey = '';
    const h = harness('lost-lock', async (data, ctx) => {
      // Another worker took the job over: its lock is no longer ours.
      await ctx.redis.set(lockKey, 'someone-else');
      return analysisOf(data.ticker, 'SELL');
    });
    const job = await h.add('TSLA');
    lockKey = `${h.config.QUEUE_PREFIX}:trading-cycle:${job.id}:lock`;
    await waitFor(() => h.errors.length > 0 || null, 10_000);
    expect(h.errors.map((e) => e.message).join(' ')).toMatch(/lock/i);
    expect(await h.state(job.id!)).toBe('active');
    expect(await h.redis.get(h.keys.custom('recorded', job.id!))).toBe('completed');
    expect(JSON.parse((await h.redis.get(h.keys.custom('analysis', job.id!)))!).decision).toBe('SELL');
    expect(h.completions.size).toBe(0);
  });

  it('another run’s analysis on record first: nothing of this run is written, and the job completes with that analysis', async () => {
    let keys = productKeys('unset');
    const h = harness('conflict', async (data, ctx) => {
      await ctx.redis.set(keys.custom('analysis', ctx.jobId), JSON.stringify(analysisOf(data.ticker, 'HOLD')));
      return analysisOf(data.ticker, 'BUY');
    });
    keys = h.keys;
    const job = await h.add('META');
    await waitFor(async () => (await h.state(job.id!)) === 'completed', 10_000);
    const done = (await h.queue.getJob(job.id!))!;
    expect((done.returnvalue as { result: CycleResult }).result.decision).toBe('HOLD');
    expect(JSON.parse((await h.redis.get(h.keys.custom('analysis', job.id!)))!).decision).toBe('HOLD');
    expect(await h.redis.get(h.keys.custom('recorded', job.id!))).toBe('completed');
    const attempts = await readAttemptLog(h.redis, h.keys, job.id!, false);
    expect(attempts.map((a) => [a.outcome, a.detail])).toEqual([['completed', 'HOLD (confidence 0.5)']]);
  });

  it('a job fetched with a cancel tombstone or an analysis on record: the fetch’s start read them, so it is cancelled, or completed without analysing again', async () => {
    let cycles = 0;
    const h = harness('fetched-reads', async (data) => {
      cycles++;
      return analysisOf(data.ticker, 'SELL');
    });
    const cancelled = randomUUID();
    const analysed = randomUUID();
    await h.redis.set(h.keys.custom('tombstone', cancelled), JSON.stringify({ id: cancelled }));
    await h.redis.set(h.keys.custom('analysis', analysed), JSON.stringify(analysisOf('ORCL', 'HOLD')));
    await h.add('IBM', { jobId: cancelled });
    await h.add('ORCL', { jobId: analysed });
    for (const id of [cancelled, analysed]) await waitFor(async () => (await h.state(id)) === 'completed', 10_000);
    expect(((await h.queue.getJob(cancelled))!.returnvalue as JobOutcome).status).toBe('cancelled');
    const reused = (await h.queue.getJob(analysed))!.returnvalue as { status: string; result: CycleResult };
    expect([reused.status, reused.result.decision]).toEqual(['completed', 'HOLD']);
    expect(cycles).toBe(0);
    for (const id of [cancelled, analysed]) expect((await readAttemptLog(h.redis, h.keys, id, false)).length).toBe(1);
  });

  it('a scheduler’s run is started by the processor (its index entry and lease are not the fetch’s): still one start on record', async () => {
    let keys = productKeys('unset');
    let heldBy: string | null = null;
    const h = harness('scheduled-start', async (data, ctx) => {
      heldBy = await ctx.redis.get(overlapLeaseKey(keys, 'every-minute:AMZN'));
      return analysisOf(data.ticker, 'BUY');
    });
    keys = h.keys;
    const job = await h.add('AMZN', { data: { schedule_id: 'every-minute', trigger: 'schedule', overlap: 'skip', market_hours: 'always' } });
    await waitFor(async () => (await h.state(job.id!)) === 'completed', 10_000);
    const attempts = await readAttemptLog(h.redis, h.keys, job.id!, false);
    expect(attempts.map((a) => a.outcome)).toEqual([((await h.queue.getJob(job.id!))!.returnvalue as JobOutcome).status]);
    const { logs } = await h.queue.getJobLogs(job.id!);
    expect(logs.filter((l) => l.includes('started')).length).toBe(1);
    // Its overlap lease was taken by the processor for the cycle and released with its end.
    expect(heldBy).toBe(job.id);
    expect(await h.redis.get(overlapLeaseKey(h.keys, 'every-minute:AMZN'))).toBeNull();
  });

  it('an end whose completion never came (a closing worker skips it) is recorded on its own by flush', async () => {
    const h = harness('flush', async (data) => analysisOf(data.ticker, 'BUY'));
    const marker = h.keys.custom('recorded', 'never-completed');
    const batch = new OnceWrites().onceFor(marker, 'completed', 60, [['SET', h.keys.custom('side-effect', 'never-completed'), 'done']]);
    let after = 0;
    h.completions.hold('never-completed', 'token-1', { batch, logger: silentLogger, retry: (step) => step(), after: async () => void after++, conflict: async () => ({ status: 'cancelled', reason: 'unused' }) });
    expect(h.completions.size).toBe(1);
    expect(await h.completions.flush()).toBe(1);
    expect(h.completions.size).toBe(0);
    expect(await h.redis.get(marker)).toBe('completed');
    expect(await h.redis.get(h.keys.custom('side-effect', 'never-completed'))).toBe('done');
    expect(after).toBe(1);
  });
});

import { randomUUID } from 'node:crypto';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Job } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MarketCalendar } from '../../src/calendar/index.ts';
import {
  BUILTIN_AGENTS,
  closeQueues,
  createRedisConnection,
  CYCLE_JOB_NAME,
  CycleAbortedError,
  cycleJobDataSchema,
  cycleJobOptions,
  openQueues,
  productKeys,
  readCounters,
  type CycleJobInput,
} from '../../src/core/index.ts';
import type { CycleContext } from '../../src/agents/index.ts';
import { createCycleProcessor, STALLED_REASON } from '../../src/tasks/cycle-processor.ts';
import type { CycleFunction } from '../../src/tasks/cycle-execution.ts';
import { createInProcessRunner } from '../../src/tasks/in-process-runner.ts';
import { writeTombstone } from '../../src/tasks/job-control.ts';
import { releaseOverlapLease } from '../../src/tasks/overlap-lease.ts';
import { createResultFileWriter } from '../../src/tasks/result-files.ts';
import { nyDate } from '../../src/tasks/index.ts';
import { runCycle as testCycle } from '../support/test-cycle.ts';
import { deletePrefix, silentLogger, testConfig, waitFor } from '../support/redis-test-env.ts';

/** The worker's job function called directly (in this process), with real Redis, real jobs and the real calendar. */
const config = testConfig('processor', { RESULTS_DIR: `/tmp/tradeloop-test-results/processor-${process.pid}` });
const redis = createRedisConnection(config, 'worker');
const subscriber = createRedisConnection(config, 'worker');
const queues = openQueues(redis, config.QUEUE_PREFIX);
const keys = productKeys(config.QUEUE_PREFIX);
const calendar = new MarketCalendar({ extraClosures: [] });
const events: Array<Record<string, unknown>> = [];

/** A cycle whose behaviour each test sets; it counts how often it really ran. */
let cycle: CycleFunction = testCycle;
let runs = 0;
const results = createResultFileWriter({ dir: config.RESULTS_DIR, logger: silentLogger });
const processor = createCycleProcessor(
  { config, logger: silentLogger, redis, keys, calendar, results, runner: createInProcessRunner(config, redis, silentLogger, (job, ctx) => (runs++, cycle(job, ctx))) },
  'trading-cycle',
);
const go = (j: Job, signal = new AbortController().signal) => processor(j, undefined, signal);

async function job(ticker: string, over: Partial<CycleJobInput> = {}): Promise<Job> {
  const data = cycleJobDataSchema.parse({ agent: 'quant', ticker, trigger: 'manual', requested_at: new Date().toISOString(), profile: BUILTIN_AGENTS.quant, overlap: 'allow', ...over });
  return queues['trading-cycle'].add(CYCLE_JOB_NAME, data, { ...cycleJobOptions('trading-cycle'), jobId: randomUUID() });
}
const counter = async (name: string, labels: Record<string, string>) =>
  (await readCounters(redis, keys)).find((c) => c.name === name && Object.entries(labels).every(([k, v]) => c.labels[k] === v))?.value ?? 0;
const lastRun = async (pair: string) => JSON.parse((await redis.hget(keys.lastRuns, pair)) ?? 'null') as Record<string, unknown> | null;
const waitsForAbort: CycleFunction = (_data, ctx) =>
  new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(new CycleAbortedError(String(ctx.signal.reason)))));

beforeAll(async () => {
  await subscriber.subscribe(keys.eventsChannel);
  subscriber.on('message', (_c, m: string) => events.push(JSON.parse(m) as Record<string, unknown>));
});
afterAll(async () => {
  subscriber.disconnect();
  await closeQueues(queues);
  redis.disconnect();
  await deletePrefix(config.QUEUE_PREFIX);
  rmSync(config.RESULTS_DIR, { recursive: true, force: true });
});

describe('cycle processor: record once, overlap lease, limits, stall limit', () => {
  it('a job id run twice (recovery) is analysed once and records one result, one last run, one count', async () => {
    cycle = testCycle;
    runs = 0;
    const j = await job('TWICE', { schedule_id: 'desk' });
    expect((await go(j)).status).toBe('completed');
    expect((await go(j)).status).toBe('completed');
    expect(runs).toBe(1);
    // The result file is written after the job, off its critical path: there once flushed.
    await results.flush();
    const files = readdirSync(join(config.RESULTS_DIR, 'TWICE'), { recursive: true }).filter((f) => String(f).endsWith('.json'));
    // Filed under the day the job was asked for (the processor gives a dateless job that day).
    expect(files).toEqual([join(nyDate(Date.parse(String(j.data.requested_at))), `${j.id}.json`)]);
    expect(await counter('cycles_completed_total', { queue: 'trading-cycle', agent: 'quant' })).toBe(1);
    expect(await lastRun('desk:TWICE')).toMatchObject({ job_id: j.id, status: 'completed', decision: 'HOLD' });
  });

  it('reports progress through the job', async () => {
    let seen: unknown;
    cycle = async (data, ctx: CycleContext) => {
      await ctx.reportProgress('analysts', 40);
      seen = (await queues['trading-cycle'].getJob(ctx.jobId))?.progress;
      return testCycle(data, ctx);
    };
    const j = await job('PROG');
    await go(j);
    expect(seen).toEqual({ stage: 'analysts', percent: 40 });
    expect((await queues['trading-cycle'].getJob(j.id!))?.progress).toEqual({ stage: 'decision', percent: 100 });
  });

  it('overlap: one cycle per (schedule, ticker) at a time; the newly due one is skipped, counted and published', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    cycle = async (data, ctx) => (await gate, testCycle(data, ctx));
    const pair = { trigger: 'schedule' as const, schedule_id: 'ov', overlap: 'skip' as const, interval_ms: 60_000 };
    const first = await job('LEASE', pair);
    const running = go(first);
    await waitFor(async () => (await redis.get(keys.custom('running', 'ov:LEASE'))) === first.id);
    expect(await go(await job('LEASE', pair))).toMatchObject({ status: 'skipped', reason: 'overlap' });
    // Another schedule for the same ticker is another pair; overlap 'allow' ignores the lease.
    cycle = testCycle;
    expect((await go(await job('LEASE', { ...pair, schedule_id: 'other' }))).status).toBe('completed');
    expect((await go(await job('LEASE', { ...pair, overlap: 'allow' }))).status).toBe('completed');
    // Only the holder may release the lease.
    await releaseOverlapLease(redis, keys, 'ov:LEASE', 'someone-else');
    expect(await redis.get(keys.custom('running', 'ov:LEASE'))).toBe(first.id);
    release();
    expect((await running).status).toBe('completed');
    expect(await redis.get(keys.custom('running', 'ov:LEASE'))).toBeNull();
    expect((await go(await job('LEASE', pair))).status).toBe('completed');
    expect(await counter('cycles_skipped_total', { schedule: 'ov', reason: 'overlap' })).toBe(1);
    await waitFor(() => events.find((e) => e.type === 'cycle.skipped' && e.reason === 'overlap' && e.schedule_id === 'ov'));
  });

  it('soft time limit: the signal aborts the cycle and the job fails at once, recorded as failed', async () => {
    cycle = waitsForAbort;
    const j = await job('SOFT', { schedule_id: 'limits', soft_time_limit_ms: 50 });
    await expect(go(j)).rejects.toMatchObject({ name: 'UnrecoverableError', message: 'soft time limit exceeded' });
    expect(await lastRun('limits:SOFT')).toMatchObject({ status: 'failed', reason: 'soft time limit exceeded' });
    expect(await counter('cycles_failed_total', { queue: 'trading-cycle', agent: 'quant' })).toBe(1);
  });

  it('a failed attempt that will be retried is not recorded; the last one is', async () => {
    cycle = async () => {
      throw new Error('provider timeout');
    };
    const j = await job('RETRY', { schedule_id: 'limits' });
    await expect(go(j)).rejects.toThrow('provider timeout');
    expect(await lastRun('limits:RETRY')).toBeNull();
    j.attemptsMade = 2; // the third and last attempt
    await expect(go(j)).rejects.toThrow('provider timeout');
    expect(await lastRun('limits:RETRY')).toMatchObject({ status: 'failed', reason: 'provider timeout' });
  });

  it('a job that stalled more often than allowed (a scheduler run BullMQ re-queues forever) fails without running', async () => {
    runs = 0;
    cycle = testCycle;
    const j = await job('STALLY', { trigger: 'schedule', schedule_id: 'crashy', overlap: 'skip' });
    await redis.set(keys.custom('running', 'crashy:STALLY'), String(j.id));
    j.stalledCounter = config.WORKER_MAX_STALLED + 1;
    await expect(go(j)).rejects.toMatchObject({ name: 'UnrecoverableError', message: STALLED_REASON });
    expect(runs).toBe(0);
    expect(await lastRun('crashy:STALLY')).toMatchObject({ status: 'failed', reason: STALLED_REASON });
    expect(await redis.get(keys.custom('running', 'crashy:STALLY'))).toBeNull();
  });

  it('a job cancelled while pending is recorded cancelled when it starts, without running', async () => {
    runs = 0;
    const j = await job('TOMB', { schedule_id: 'desk' });
    await writeTombstone(redis, keys, String(j.id), { status: 'cancelled' });
    expect(await go(j)).toMatchObject({ status: 'cancelled' });
    expect(runs).toBe(0);
    expect(await lastRun('desk:TOMB')).toMatchObject({ status: 'cancelled' });
  });

  it('a running job aborted by cancel ends cancelled, not failed', async () => {
    cycle = waitsForAbort;
    const j = await job('CANCEL', { schedule_id: 'desk' });
    const controller = new AbortController();
    const running = go(j, controller.signal);
    setTimeout(() => controller.abort('cancelled by request'), 20);
    await expect(running).rejects.toMatchObject({ message: 'cancelled: cancelled by request' });
    expect(await lastRun('desk:CANCEL')).toMatchObject({ status: 'cancelled' });
  });

  it('rejects invalid job data without retry', async () => {
    const bad = await queues['trading-cycle'].add(CYCLE_JOB_NAME, { ticker: 'not valid!', agent: 'quant' }, { jobId: randomUUID() });
    await expect(go(bad)).rejects.toMatchObject({ name: 'UnrecoverableError', message: expect.stringContaining('invalid job data') });
  });
});

import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { productKeys } from '../../src/core/index.ts';
import { createApp } from '../../src/dashboard/index.ts';
import { startScheduler } from '../../src/scheduler/index.ts';
import { startWorkers } from '../../src/tasks/index.ts';
import { silentLogger, waitFor } from '../support/redis-test-env.ts';
import { schedulerHarness } from '../support/scheduler-harness.ts';
import { runCycle } from '../support/test-cycle.ts';

/** Per-schedule options of schedules.yaml reach the runs BullMQ's job schedulers create, and the worker honours them. */
const h = schedulerHarness();

describe('schedule options through real BullMQ job schedulers and a worker', () => {
  it('attempts, soft/hard time limits, max_start_delay (and catch_up covering it), enabled: false, and a failed run retried through the API', async () => {
    const entry = (id: string, ticker: string, extra: string) => `  - { id: ${id}, agent: quant, ticker: ${ticker}, every: 1h, market_hours: always, overlap: allow${extra} }\n`;
    const config = h.setup(
      'schedopts',
      'schedules:\n' +
        entry('once', 'FAIL1', ', attempts: 1') +
        entry('thrice', 'FAIL1', ', attempts: 3') +
        entry('limited', 'SLEEP50', ', soft_time_limit: 1s, hard_time_limit: 2s, attempts: 1') +
        entry('late', 'SPY', ', max_start_delay: 1m') +
        entry('covered', 'QQQ', ', max_start_delay: 1m, catch_up: 5m') +
        entry('off', 'SPY', ', enabled: false'),
      { CYCLE_BACKOFF_MS: '10', CYCLE_BACKOFF_CAP_MS: '10' },
    );
    const { redis, queues } = await h.connect(config);
    const queue = queues['trading-cycle'];
    await h.started(startScheduler(config, silentLogger, { watch: false, tickMs: 200, wakeWorkers: false }));
    expect((await queue.getJobSchedulers()).map((s) => s.key).sort()).toEqual(['covered:QQQ', 'late:SPY', 'limited:SLEEP50', 'once:FAIL1', 'thrice:FAIL1']);
    // The worker starts every run two minutes after its due time.
    await h.started(startWorkers(config, silentLogger, { sandbox: false, runCycle, now: () => Date.now() + 2 * 60_000 }));
    const finished = async (scheduler: string) => {
      const jobs = await queue.getJobs(['completed', 'failed']);
      return jobs.find((j) => j.repeatJobKey === scheduler) ?? null;
    };
    const once = await waitFor(() => finished('once:FAIL1'), 10_000);
    expect([await once.getState(), once.attemptsMade]).toEqual(['failed', 1]);
    // An operator retries the failed scheduled run through the API: same id, it runs again and completes.
    const app = createApp({ config, logger: silentLogger, redis, keys: productKeys(config.QUEUE_PREFIX), queues, now: () => new Date() });
    expect((await request(app).post(`/api/jobs/${once.id}/retry`).set('x-tradeloop-request', '1')).status).toBe(202);
    await waitFor(async () => (await request(app).get(`/api/jobs/${once.id}`)).body.status === 'completed', 10_000);
    const thrice = await waitFor(() => finished('thrice:FAIL1'), 10_000);
    expect([await thrice.getState(), thrice.attemptsMade]).toEqual(['completed', 2]);
    const limited = await waitFor(() => finished('limited:SLEEP50'), 10_000);
    expect(await limited.getState()).toBe('failed');
    expect(limited.failedReason).toMatch(/time limit/i);
    const outcome = async (scheduler: string) => (await waitFor(() => finished(scheduler), 10_000)).returnvalue as { status: string; reason?: string };
    expect(await outcome('late:SPY')).toMatchObject({ status: 'skipped', reason: 'stale' });
    expect(await outcome('covered:QQQ')).toMatchObject({ status: 'completed' });
  });

  it('overlap: skip records the run due while its pair still runs as skipped; allow runs both', async () => {
    const entry = (id: string, overlap: string) => `  - { id: ${id}, agent: quant, ticker: SLEEP15, every: 1s, market_hours: always, overlap: ${overlap} }\n`;
    const config = h.setup('overlap', 'schedules:\n' + entry('skipper', 'skip') + entry('allower', 'allow'));
    const { redis, queues } = await h.connect(config);
    await h.started(startScheduler(config, silentLogger, { watch: false, tickMs: 200 }));
    await h.started(startWorkers(config, silentLogger, { sandbox: false, runCycle, concurrency: 4 }));
    const outcomes = async (scheduler: string) =>
      (await queues['trading-cycle'].getJobs(['completed'])).filter((j) => j.repeatJobKey === scheduler).map((j) => (j.returnvalue as { status: string; reason?: string }).status);
    // Each cycle takes 1.5 s and one falls due every second.
    const skipped = await waitFor(async () => {
      const o = await outcomes('skipper:SLEEP15');
      return o.includes('completed') && o.includes('skipped') ? o : null;
    }, 10_000);
    expect(skipped).toContain('skipped');
    const allowed = await waitFor(async () => {
      const o = await outcomes('allower:SLEEP15');
      return o.length >= 2 ? o : null;
    }, 10_000);
    expect(allowed.every((x) => x === 'completed')).toBe(true);
  });
});

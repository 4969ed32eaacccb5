import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILTIN_AGENTS, closeQueues, createRedisConnection, CYCLE_JOB_NAME, cycleJobDataSchema, cycleJobOptions, openQueues, productKeys } from '../../src/core/index.ts';
import { createApp } from '../../src/dashboard/index.ts';
import { mountBullBoard } from '../../src/dashboard/bull-board.ts';
import { enqueueCycle, startWorkers, type WorkerService } from '../../src/tasks/index.ts';
import { runCycle as testCycle } from '../support/test-cycle.ts';
import { deletePrefix, silentLogger, testConfig, waitFor } from '../support/redis-test-env.ts';

const config = testConfig('bull-board');
const keys = productKeys(config.QUEUE_PREFIX);
const redis = createRedisConnection(config, 'producer');
const queues = openQueues(redis, config.QUEUE_PREFIX);
const app = createApp({ config, logger: silentLogger, redis, keys, queues, now: () => new Date() }, { mount: (a) => mountBullBoard(a, queues, false) });
const queue = queues['trading-cycle'];
const SCHEDULER = 'desk:AAPL';
let workers: WorkerService | undefined;

beforeAll(async () => {
  await waitFor(() => redis.status === 'ready');
  const data = cycleJobDataSchema.parse({ agent: 'quant', ticker: 'AAPL', schedule_id: 'desk', trigger: 'schedule', market_hours: 'always', profile: BUILTIN_AGENTS.quant });
  // Far in the future: the scheduler exists, its run never comes during the test.
  await queue.upsertJobScheduler(SCHEDULER, { every: 3_600_000, startDate: Date.now() + 86_400_000 }, { name: CYCLE_JOB_NAME, data, opts: cycleJobOptions('trading-cycle') });
});
afterAll(async () => {
  await workers?.stop();
  await closeQueues(queues);
  redis.disconnect();
  await deletePrefix(config.QUEUE_PREFIX);
});

describe('Bull Board', () => {
  const base = `/admin/queues/api/queues/trading-cycle/job-schedulers/${encodeURIComponent(SCHEDULER)}`;

  it('refuses to edit or remove a job scheduler, pointing to schedules.yaml, and leaves it as it was', async () => {
    const before = await queue.getJobScheduler(SCHEDULER);
    expect(before?.every).toBe(3_600_000);
    const edit = await request(app).patch(base).set('x-tradeloop-request', '1').send({ repeat: { every: 1000 } });
    expect(edit.status).toBe(403);
    expect(edit.body.error).toBe('job schedulers are managed by schedules.yaml');
    expect(edit.body.details[0]).toMatchObject({ field: 'scheduler' });
    expect(edit.body.details[0].message).toContain('schedules.yaml');
    const remove = await request(app).put(`${base}/remove`).set('x-tradeloop-request', '1');
    expect(remove.status).toBe(403);
    expect(remove.body.details[0].message).toContain('schedules.yaml');
    const after = await queue.getJobScheduler(SCHEDULER);
    expect(after).toMatchObject({ key: SCHEDULER, every: 3_600_000, next: before!.next });
    // Reading the schedulers stays allowed.
    expect((await request(app).get('/admin/queues/api/job-schedulers')).status).not.toBe(403);
  });

  it('links back to the overview', async () => {
    const page = await request(app).get('/admin/queues/');
    expect(page.status).toBe(200);
    expect(page.text).toContain('tradeloop overview');
  });

  it('gets per-minute metrics from the workers, so its charts have data', async () => {
    workers = await startWorkers(config, silentLogger, { queues: ['trading-cycle'], sandbox: false, runCycle: testCycle });
    const data = cycleJobDataSchema.parse({ agent: 'quant', ticker: 'MSFT', trigger: 'api', requested_at: new Date().toISOString(), profile: BUILTIN_AGENTS.quant, overlap: 'allow' });
    const view = await enqueueCycle(queues, 'trading-cycle', data, { redis, keys });
    await waitFor(async () => (await queue.getJobState(view.job_id)) === 'completed', 15_000);
    const metrics = await waitFor(async () => {
      const m = await queue.getMetrics('completed');
      return m.meta.count >= 1 ? m : null;
    }, 10_000);
    expect(metrics.meta.count).toBe(1);
  });
});

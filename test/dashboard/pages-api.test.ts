import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeQueues, createRedisConnection, openQueues, productKeys, recordCycleMetrics } from '../../src/core/index.ts';
import { createApp } from '../../src/dashboard/index.ts';
import { startWorkers, type WorkerService } from '../../src/tasks/index.ts';
import { deletePrefix, silentLogger, testConfig, waitFor } from '../support/redis-test-env.ts';

/** The API behind the pages: throughput from Redis, the explorer's filters, the chart's bars. */
const config = testConfig('pages-api');
const keys = productKeys(config.QUEUE_PREFIX);
const redis = createRedisConnection(config, 'producer');
const queues = openQueues(redis, config.QUEUE_PREFIX);
const app = createApp({ config, logger: silentLogger, redis, keys, queues, now: () => new Date() });
let workers: WorkerService;
const done = async (ticker: string, extra: Record<string, unknown> = {}) => {
  const posted = await request(app).post('/api/jobs').send({ ticker, ...extra });
  expect(posted.status).toBe(202);
  await waitFor(async () => (await request(app).get(`/api/jobs/${posted.body.job_id}`)).body.status === 'completed', 20_000);
  return posted.body.job_id as string;
};

beforeAll(async () => {
  await waitFor(() => redis.status === 'ready');
  workers = await startWorkers(config, silentLogger, { sandbox: false });
});
afterAll(async () => {
  await workers.stop();
  await closeQueues(queues);
  redis.disconnect();
  await deletePrefix(config.QUEUE_PREFIX);
});

describe('GET /api/stats/throughput', () => {
  it('counts what the workers recorded per bucket, whatever the job list holds', async () => {
    const now = Date.now();
    for (const status of ['completed', 'completed', 'failed', 'skipped'] as const) {
      await recordCycleMetrics(redis, keys, { queue: 'trading-cycle', agent: 'quant', schedule: null, ticker: 'X', trigger: 'api', status, endedAt: now - 5 * 60_000 });
    }
    // Older than the hour: only in the 24h range.
    await recordCycleMetrics(redis, keys, { queue: 'trading-cycle', agent: 'quant', schedule: null, ticker: 'X', trigger: 'api', status: 'completed', endedAt: now - 3 * 3_600_000 });
    const hour = await request(app).get('/api/stats/throughput?range=1h');
    expect(hour.status).toBe(200);
    expect(hour.body).toMatchObject({ range: '1h', bucket_s: 60, time_zone: 'America/New_York', totals: { completed: 2, failed: 1, skipped: 1, cancelled: 0 } });
    expect(hour.body.buckets).toHaveLength(60);
    const bucket = hour.body.buckets.find((b: { t: number }) => b.t === Math.floor((now - 5 * 60_000) / 60_000) * 60);
    expect(bucket).toMatchObject({ completed: 2, failed: 1, skipped: 1 });
    const day = await request(app).get('/api/stats/throughput?range=24h');
    expect(day.body.bucket_s).toBe(900);
    expect(day.body.totals.completed).toBe(3);
    const bad = await request(app).get('/api/stats/throughput?range=2w');
    expect(bad.status).toBe(400);
    expect(bad.body.details[0].field).toBe('range');
  });
});

describe('job list filters and the chart bars', () => {
  let first = '';
  let second = '';
  beforeAll(async () => {
    first = await done('AAPL');
    second = await done('AMD', { date: '2026-11-20' });
  }, 40_000);

  it('filters by decision and by a New York date range of creation, and names a bad bound', async () => {
    const view = (await request(app).get(`/api/jobs/${first}`)).body;
    const same = await request(app).get(`/api/jobs?decision=${view.decision}`);
    expect(same.body.jobs.map((j: { job_id: string }) => j.job_id)).toContain(first);
    expect(same.body.jobs.every((j: { decision: string }) => j.decision === view.decision)).toBe(true);
    const created = Date.parse(view.created_at);
    const around = await request(app).get(`/api/jobs?from=${new Date(created - 1).toISOString()}&to=${new Date(created + 1).toISOString()}`);
    expect(around.body.jobs.map((j: { job_id: string }) => j.job_id)).toEqual([first]);
    const today = new Date(created).toLocaleDateString('en-CA', { timeZone: 'America/New_York' });
    const day = await request(app).get(`/api/jobs?from=${today}&to=${today}`);
    expect(day.body.jobs.map((j: { job_id: string }) => j.job_id).sort()).toEqual([first, second].sort());
    expect((await request(app).get('/api/jobs?to=2020-01-01')).body.jobs).toEqual([]);
    const bad = await request(app).get('/api/jobs?from=yesterday');
    expect(bad.status).toBe(400);
    expect(bad.body.details[0].field).toBe('from');
    expect((await request(app).get('/api/jobs?from=2026-11-20&to=2026-11-19')).body.details[0].field).toBe('to');
    expect((await request(app).get('/api/jobs?decision=MAYBE')).body.details[0].field).toBe('decision');
  });

  it('serves the bars a cycle analysed from its result, with its indicators and decision', async () => {
    const res = await request(app).get(`/api/jobs/${second}/bars`);
    expect(res.status).toBe(200);
    const result = (await request(app).get(`/api/jobs/${second}/result`)).body;
    expect(res.body).toMatchObject({ ticker: 'AMD', date: '2026-11-20', data_source: 'simulated', bars_from: 'result', decision: result.decision, price: result.price, indicators: result.indicators });
    expect(res.body.bars).toEqual(result.bars);
    expect(res.body.bars).toHaveLength(130);
    // The last bar is the analysis date's (a past date: decided at its close).
    expect(new Date(res.body.bars.at(-1).t).toLocaleDateString('en-CA', { timeZone: 'America/New_York' })).toBe('2026-11-20');
    expect(res.body.bars.at(-1).c).toBe(result.price);
  });

  it('answers 404 for an unknown job and 409 for one without a result', async () => {
    expect((await request(app).get('/api/jobs/nope/bars')).status).toBe(404);
    const data = { agent: 'quant', ticker: 'PEND', trigger: 'api', profile: {} };
    const waiting = await queues['trading-cycle'].add('cycle', data, { delay: 3_600_000, jobId: 'pending-bars' });
    const res = await request(app).get(`/api/jobs/${waiting.id}/bars`);
    expect(res.status).toBe(409);
    expect(res.body.details[0]).toEqual({ field: 'status', message: 'pending' });
    await waiting.remove();
  });
});

import type { Express } from 'express';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeQueues, createRedisConnection, loadConfig, openQueues, productKeys } from '../core/index.ts';
import { startWorkers, type WorkerService } from '../tasks/index.ts';
import { createApp } from './index.ts';
import { deletePrefix, silentLogger, testConfig, waitFor } from '../../test/support/redis-test-env.ts';

const config = testConfig('jobs-api');
const redis = createRedisConnection(config, 'producer');
const queues = openQueues(redis, config.QUEUE_PREFIX);
let app: Express;
let worker: WorkerService | undefined;

beforeAll(async () => {
  await waitFor(() => redis.status === 'ready');
  app = createApp({ config, logger: silentLogger, redis, keys: productKeys(config.QUEUE_PREFIX), queues, now: () => new Date() });
});
afterAll(async () => {
  await worker?.stop();
  await closeQueues(queues);
  redis.disconnect();
  await deletePrefix(config.QUEUE_PREFIX);
});

describe('job API contract', () => {
  let jobId: string;

  it('POST /api/jobs answers 202 pending even with no worker running', async () => {
    const res = await request(app).post('/api/jobs').send({ ticker: 'nvda', date: '2026-02-12' });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ status: 'pending', ticker: 'NVDA', date: '2026-02-12', agent: 'quant' });
    expect(res.body.job_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(Date.parse(res.body.created_at)).not.toBeNaN();
    expect(res.headers.location).toBe(`/api/jobs/${res.body.job_id}`);
    jobId = res.body.job_id;
    const status = await request(app).get(`/api/jobs/${jobId}`);
    expect(status.status).toBe(200);
    expect(status.body).toMatchObject({ job_id: jobId, status: 'pending', started_at: null, completed_at: null });
  });

  it('GET /result is 409 while the job is not completed', async () => {
    const res = await request(app).get(`/api/jobs/${jobId}/result`);
    expect(res.status).toBe(409);
    expect(res.body.error).toMatch(/pending/);
  });

  it('a worker takes the job to completed and the result carries the decision', async () => {
    worker = await startWorkers(config, silentLogger, { concurrency: 1 });
    const done = await waitFor(async () => {
      const r = await request(app).get(`/api/jobs/${jobId}`);
      return r.body.status === 'completed' ? r.body : null;
    });
    expect(Date.parse(done.started_at)).toBeGreaterThanOrEqual(Date.parse(done.created_at));
    expect(Date.parse(done.completed_at)).toBeGreaterThanOrEqual(Date.parse(done.started_at));
    expect(done.attempts).toBe(1);
    const result = await request(app).get(`/api/jobs/${jobId}/result`);
    expect(result.status).toBe(200);
    expect(result.body).toMatchObject({ job_id: jobId, ticker: 'NVDA', date: '2026-02-12' });
    expect(['BUY', 'SELL', 'HOLD']).toContain(result.body.decision);
    expect(result.body.reports.final.length).toBeGreaterThan(0);
    // Without DATABASE_URL there is no durable history: nothing is queued for one.
    expect(worker.history).toBeNull();
    expect(await redis.exists(productKeys(config.QUEUE_PREFIX).custom('history', 'outbox'))).toBe(0);
  });

  it('404 for an unknown id, on both endpoints', async () => {
    for (const path of ['/api/jobs/does-not-exist', '/api/jobs/does-not-exist/result']) {
      const res = await request(app).get(path);
      expect(res.status).toBe(404);
      expect(res.body).toMatchObject({ error: 'job not found' });
    }
  });

  it.each([
    [{}, 'ticker'],
    [{ ticker: 42 }, 'ticker'],
    [{ ticker: 'NOT A TICKER' }, 'ticker'],
    [{ ticker: 'SPY', date: '2026-13-45' }, 'date'],
    [{ ticker: 'SPY', date: 'tomorrow' }, 'date'],
    [{ ticker: 'SPY', date: '2025-02-30' }, 'date'],
    [{ ticker: 'SPY', date: '2025-13-01' }, 'date'],
    [{ ticker: 'SPY', date: '2023-02-29' }, 'date'],
    [{ ticker: 'SPY', date: '2099-01-02' }, 'date'],
    [{ ticker: 'SPY', agent: 'ghost' }, 'agent'],
    [{ ticker: 'SPY', extra: true }, 'extra'],
    [{ ticker: 'SPY', config: { debate_rounds: 99 } }, 'config.debate_rounds'],
    [{ ticker: 'SPY', queue: 'elsewhere' }, 'queue'],
    // No broker adapter: refused here, not accepted with a 202 and failed later by the worker.
    [{ ticker: 'SPY', dry_run: false }, 'dry_run'],
  ])('400 names the field: %j', async (body, field) => {
    const res = await request(app).post('/api/jobs').send(body);
    expect(res.status).toBe(400);
    expect(res.body.details.map((d: { field: string }) => d.field)).toContain(field);
    expect(res.body.details.every((d: { message: string }) => d.message.length > 0)).toBe(true);
  });

  it('a cursor the listing did not hand out is a 400 naming cursor, not a silent restart from the newest job', async () => {
    const first = await request(app).get('/api/jobs?limit=1');
    expect(first.status).toBe(200);
    for (const cursor of ['garbage', 'WzEsMl0', Buffer.from('{"a":1}').toString('base64url')]) {
      const res = await request(app).get(`/api/jobs?limit=1&cursor=${cursor}`);
      expect(res.status).toBe(400);
      expect(res.body.details).toEqual([{ field: 'cursor', message: 'is not a cursor returned by this API' }]);
    }
  });

  it('from/to: a "+" offset sent unencoded is named in the 400; sent as %2B it bounds the list', async () => {
    const plain = await request(app).get('/api/jobs?from=2026-02-12T20:00:00+05:00');
    expect(plain.status).toBe(400);
    expect(plain.body.details[0]).toMatchObject({ field: 'from' });
    expect(plain.body.details[0].message).toMatch(/%2B/);
    expect((await request(app).get('/api/jobs?from=2026-02-12T20:00:00%2B05:00')).status).toBe(200);
  });

  it('400 for malformed JSON, 413 for a huge body', async () => {
    const bad = await request(app).post('/api/jobs').set('content-type', 'application/json').send('{"ticker":');
    expect(bad.status).toBe(400);
    expect(bad.body.details[0].message).toMatch(/malformed JSON/);
    const huge = await request(app).post('/api/jobs').send({ ticker: 'SPY', pad: 'x'.repeat(200_000) });
    expect(huge.status).toBe(413);
  });

  it('503 with a JSON error, quickly, when Redis is unreachable', async () => {
    const downConfig = loadConfig({ REDIS_URL: 'redis://127.0.0.1:1', QUEUE_PREFIX: config.QUEUE_PREFIX, LOG_LEVEL: 'silent' });
    const down = createRedisConnection(downConfig, 'producer');
    const downQueues = openQueues(down, downConfig.QUEUE_PREFIX);
    const downApp = createApp({ config: downConfig, logger: silentLogger, redis: down, keys: productKeys('x'), queues: downQueues, now: () => new Date() });
    const started = Date.now();
    const res = await request(downApp).post('/api/jobs').send({ ticker: 'SPY' });
    const status = await request(downApp).get('/api/jobs/anything');
    const ready = await request(downApp).get('/readyz');
    const health = await request(downApp).get('/healthz');
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(res.status).toBe(503);
    expect(res.body.error).toBe('service unavailable');
    expect(status.status).toBe(503);
    expect(ready.status).toBe(503);
    expect(health.status).toBe(200);
    await closeQueues(downQueues);
    down.disconnect();
  });
});

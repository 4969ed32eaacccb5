import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeQueues, createRedisConnection, openQueues, productKeys } from '../../src/core/index.ts';
import { createApp } from '../../src/dashboard/index.ts';
import { startWorkers, type WorkerService } from '../../src/tasks/index.ts';
import { deletePrefix, silentLogger, testConfig, waitFor } from '../support/redis-test-env.ts';
import { runCycle } from '../support/test-cycle.ts';

/** Triage and queue control through the API, with a real in-process worker on real Redis. */
const config = testConfig('triage', { CYCLE_BACKOFF_CAP_MS: '20' });
const producer = createRedisConnection(config, 'producer');
const queues = openQueues(producer, config.QUEUE_PREFIX);
const keys = productKeys(config.QUEUE_PREFIX);
const app = createApp({ config, logger: silentLogger, redis: producer, keys, queues, now: () => new Date() });
let worker: WorkerService;

beforeAll(async () => {
  await waitFor(() => producer.status === 'ready');
  worker = await startWorkers(config, silentLogger, { sandbox: false, runCycle });
});
afterAll(async () => {
  await worker?.stop();
  await closeQueues(queues);
  producer.disconnect();
  await deletePrefix(config.QUEUE_PREFIX);
});

const job = async (id: string) => (await request(app).get(`/api/jobs/${id}`)).body;
const settled = (id: string, status: string) => waitFor(async () => ((await job(id)).status === status ? job(id) : null), 15_000);

describe('retry', () => {
  it('re-queues a failed job under the same id with its attempts kept, and it runs again', async () => {
    // FAIL3 fails its three automatic attempts and succeeds on a fourth.
    const posted = await request(app).post('/api/jobs').send({ ticker: 'FAIL3' });
    const id = posted.body.job_id;
    const failed = await settled(id, 'failed');
    expect(failed.attempts).toBe(3);
    expect(failed.attempts_log).toHaveLength(3);
    for (const [i, a] of failed.attempts_log.entries()) {
      expect(a).toMatchObject({ attempt: i + 1, outcome: 'failed', error: `transient failure on attempt ${i + 1}`, error_name: 'Error' });
      expect(a.stack).toMatch(/test-cycle\.ts:\d+/);
      expect(Date.parse(a.ended_at)).toBeGreaterThanOrEqual(Date.parse(a.started_at));
    }

    const retried = await request(app).post(`/api/jobs/${id}/retry`);
    expect(retried.status).toBe(202);
    expect(retried.body.job_id).toBe(id);
    const done = await settled(id, 'completed');
    expect(done.job_id).toBe(id);
    expect(done.attempts).toBe(4);
    expect(done.attempts_log.map((a: { outcome: string }) => a.outcome)).toEqual(['failed', 'failed', 'failed', 'completed']);
    expect(done.attempts_log[3].detail).toMatch(/^HOLD/);
    // The test cycle reports the attempt it ran as: the fourth, not a fresh first.
    expect((await request(app).get(`/api/jobs/${id}/result`)).body.indicators.attempt).toBe(4);

    const logs = (await request(app).get(`/api/jobs/${id}/logs`)).body;
    expect(logs.count).toBe(logs.logs.length);
    const text = logs.logs.join('\n');
    expect(text).toMatch(/attempt 1 started/);
    expect(text).toMatch(/attempt 2 failed: Error: transient failure on attempt 2/);
    expect(text).toMatch(/re-queued by an operator \(attempts so far: 3\)/);
    expect(text).toMatch(/progress 100% decision/);
    expect(text).toMatch(/attempt 4 completed: HOLD/);
  });

  it('a permanent failure keeps the real stack; completed jobs get 409; unknown ids 404', async () => {
    const id = (await request(app).post('/api/jobs').send({ ticker: 'PERM' })).body.job_id;
    const failed = await settled(id, 'failed');
    expect(failed.attempts_log).toHaveLength(1);
    expect(failed.attempts_log[0]).toMatchObject({ error_name: 'PermanentCycleError', error: 'unknown ticker PERM' });
    expect(failed.attempts_log[0].stack).toMatch(/test-cycle\.ts/);

    const ok = (await request(app).post('/api/jobs').send({ ticker: 'OKAY' })).body.job_id;
    await settled(ok, 'completed');
    const refused = await request(app).post(`/api/jobs/${ok}/retry`);
    expect(refused.status).toBe(409);
    expect(refused.body.details[0]).toEqual({ field: 'status', message: 'completed' });
    const missing = await request(app).post('/api/jobs/no-such-job/retry');
    expect(missing.status).toBe(404);
    expect(missing.body.details[0].field).toBe('id');
    expect((await request(app).get('/api/jobs/no-such-job/logs')).status).toBe(404);
  });
});

describe('queue pause and resume', () => {
  it('a paused queue holds its jobs; a cancelled one can be retried; resume runs them', async () => {
    const paused = await request(app).post('/api/queues/trading-cycle-priority/pause');
    expect(paused.status).toBe(200);
    expect(paused.body).toEqual({ queue: 'trading-cycle-priority', paused: true });
    expect((await request(app).get('/api/queues')).body.queues.find((q: { name: string }) => q.name === 'trading-cycle-priority').paused).toBe(true);

    const held = (await request(app).post('/api/jobs').send({ ticker: 'HELD' })).body.job_id;
    const dropped = (await request(app).post('/api/jobs').send({ ticker: 'DROP' })).body.job_id;
    // Long enough for an idle worker to have taken it many times over.
    await new Promise((r) => setTimeout(r, 1_000));
    expect((await job(held)).status).toBe('pending');

    expect((await request(app).delete(`/api/jobs/${dropped}`)).status).toBe(200);
    expect((await job(dropped)).status).toBe('cancelled');
    const again = await request(app).post(`/api/jobs/${dropped}/retry`);
    expect(again.status).toBe(202);
    expect((await job(dropped)).status).toBe('pending');

    const resumed = await request(app).post('/api/queues/trading-cycle-priority/resume');
    expect(resumed.body).toEqual({ queue: 'trading-cycle-priority', paused: false });
    expect((await settled(held, 'completed')).ticker).toBe('HELD');
    expect((await settled(dropped, 'completed')).job_id).toBe(dropped);

    const unknown = await request(app).post('/api/queues/nope/pause');
    expect(unknown.status).toBe(404);
    expect(unknown.body.details[0].field).toBe('name');
  });
});

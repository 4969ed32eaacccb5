import { resolve } from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentProfileSchema, closeQueues, createRedisConnection, openQueues, productKeys } from '../../src/core/index.ts';
import { createApp } from '../../src/dashboard/index.ts';
import { openHistory, type HistoryStore } from '../../src/history/index.ts';
import { findJob, startWorkers, type WorkerService } from '../../src/tasks/index.ts';
import { deletePrefix, silentLogger, testConfig, waitFor } from '../support/redis-test-env.ts';
import { dropSchema, query, TEST_DATABASE_URL, uniqueSchema } from '../support/pg-test-env.ts';

/** Decisions held for approval: how each was settled reaches the durable history, and the API serves it from there. */
const schema = uniqueSchema('history_approval');
const config = testConfig('history-approval', { CYCLE_MODULE: resolve('test/support/approval-cycle.ts'), DATABASE_URL: TEST_DATABASE_URL, DATABASE_SCHEMA: schema });
const keys = productKeys(config.QUEUE_PREFIX);
const redis = createRedisConnection(config, 'producer');
const queues = openQueues(redis, config.QUEUE_PREFIX);
let history: HistoryStore;
let worker: WorkerService;
let app: ReturnType<typeof createApp>;

beforeAll(async () => {
  await waitFor(() => redis.status === 'ready');
  await redis.hset(keys.agents, 'desk', JSON.stringify(agentProfileSchema.parse({ approval: 'required' })));
  history = openHistory(config, silentLogger)!;
  worker = await startWorkers(config, silentLogger, { sandbox: false, historyRefreshMs: 100 });
  app = createApp({ config, logger: silentLogger, redis, keys, queues, now: () => new Date(), history });
}, 30_000);
afterAll(async () => {
  await worker?.stop();
  await history?.close();
  await closeQueues(queues);
  redis.disconnect();
  await deletePrefix(config.QUEUE_PREFIX);
  await dropSchema(schema);
});

async function held(ticker: string): Promise<string> {
  const id = (await request(app).post('/api/jobs').send({ ticker, agent: 'desk' })).body.job_id as string;
  await waitFor(async () => (await request(app).get(`/api/jobs/${id}`)).body.status === 'awaiting_approval', 30_000, 100);
  return id;
}

describe('held decisions in the durable history', () => {
  it('approved and rejected decisions keep their settlement, fill and scorecard once Redis has forgotten the job', async () => {
    const approved = await held('BUYA');
    const rejected = await held('SELLB');
    expect((await request(app).post(`/api/decisions/${approved}/approve`).send({ by: 'ops' })).status).toBe(200);
    expect((await request(app).post(`/api/decisions/${rejected}/reject`).send({ by: 'ops' })).status).toBe(200);
    const liveResult = (await request(app).get(`/api/jobs/${approved}/result`)).body;
    expect(liveResult.fill).toMatchObject({ side: 'BUY', price: expect.any(Number) });
    await waitFor(async () => {
      const rows = await query<{ s: string | null }>(schema, "SELECT approval->>'status' AS s FROM cycles ORDER BY ticker");
      return rows.length === 2 && rows[0]!.s === 'approved' && rows[1]!.s === 'rejected';
    }, 30_000, 100);
    const redisCard = (await request(app).get('/api/agents/desk/scorecard?source=redis')).body;
    const historyCard = (await request(app).get('/api/agents/desk/scorecard')).body;
    expect(historyCard.decisions).toBe(1);
    expect({ ...historyCard, source: null }).toEqual({ ...redisCard, source: null });

    for (const id of [approved, rejected]) await (await findJob(queues, id))!.job.remove();
    const a = await request(app).get(`/api/jobs/${approved}`);
    expect(a.body).toMatchObject({ source: 'history', status: 'completed', approval: { status: 'approved', settled_by: 'ops' } });
    const r = await request(app).get(`/api/jobs/${rejected}`);
    expect(r.body).toMatchObject({ source: 'history', status: 'rejected', approval: { status: 'rejected', fill: null } });
    const result = (await request(app).get(`/api/jobs/${approved}/result`)).body;
    expect(result.fill).toEqual(liveResult.fill);
    expect(result.approval.status).toBe('approved');
    expect((await request(app).get('/api/history?status=rejected')).body.jobs.map((j: { job_id: string }) => j.job_id)).toEqual([rejected]);
    expect((await request(app).get('/api/history?status=awaiting_approval')).body.jobs).toEqual([]);
  }, 90_000);
});

import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILTIN_AGENTS, closeQueues, createRedisConnection, cycleJobDataSchema, cycleJobOptions, CYCLE_JOB_NAME, openQueues, productKeys } from '../../src/core/index.ts';
import { createApp } from '../../src/dashboard/index.ts';
import { startWorkers, type WorkerService } from '../../src/tasks/index.ts';
import { deletePrefix, silentLogger, testConfig, waitFor } from '../support/redis-test-env.ts';
import { runCycle } from '../support/test-cycle.ts';

/** Which jobs the worker indexes when they start (a scheduler's runs), and which it leaves to their enqueue. */
const config = testConfig('idxstart');
const producer = createRedisConnection(config, 'producer');
const queues = openQueues(producer, config.QUEUE_PREFIX);
const keys = productKeys(config.QUEUE_PREFIX);
const app = createApp({ config, logger: silentLogger, redis: producer, keys, queues, now: () => new Date() });
let worker: WorkerService | undefined;

beforeAll(async () => {
  await waitFor(() => producer.status === 'ready');
});
afterAll(async () => {
  await worker?.stop();
  await closeQueues(queues);
  producer.disconnect();
  await deletePrefix(config.QUEUE_PREFIX);
});

const listed = async (query: string) => ((await request(app).get(`/api/jobs?${query}`)).body.jobs as Array<{ job_id: string; status: string }>).map((j) => j.job_id);
const status = async (id: string) => (await request(app).get(`/api/jobs/${id}`)).body.status as string;

describe('the job index at a job start', () => {
  it('a scheduler\'s run, created outside our enqueue, is listed by schedule, ticker and agent once it has run', async () => {
    // A catch-up run, added as the scheduler adds it: no index entry of ours (nor has a BullMQ-made repeat: run).
    const due = Date.now();
    const id = `catchup:desk:IDXA@${due}`;
    const data = cycleJobDataSchema.parse({ agent: 'quant', ticker: 'IDXA', schedule_id: 'desk', trigger: 'schedule', requested_at: new Date(due).toISOString(), market_hours: 'always', profile: BUILTIN_AGENTS.quant, overlap: 'allow' });
    await queues['trading-cycle'].add(CYCLE_JOB_NAME, data, { ...cycleJobOptions('trading-cycle'), jobId: id });
    expect(await listed('schedule=desk')).toEqual([]);
    worker = await startWorkers(config, silentLogger, { sandbox: false, runCycle });
    await waitFor(async () => (await status(id)) === 'completed', 15_000);
    expect(await listed('schedule=desk')).toEqual([id]);
    expect(await listed('ticker=IDXA')).toEqual([id]);
    expect(await listed('agent=quant&ticker=IDXA')).toEqual([id]);
  });

  it('a cancelled job retried after its index entries were pruned is listed again, and runs', async () => {
    await request(app).post('/api/queues/trading-cycle-priority/pause');
    const id = (await request(app).post('/api/jobs').send({ ticker: 'IDXB' })).body.job_id as string;
    expect((await request(app).delete(`/api/jobs/${id}`)).status).toBe(200);
    // As the retention pass would, long after: every index list forgets it.
    for (const key of await producer.keys(`${keys.custom('jobs')}:*`)) await producer.zrem(key, `trading-cycle-priority|${id}`);
    expect(await listed('ticker=IDXB')).toEqual([]);
    expect((await request(app).post(`/api/jobs/${id}/retry`)).status).toBe(202);
    expect(await listed('ticker=IDXB')).toEqual([id]);
    await request(app).post('/api/queues/trading-cycle-priority/resume');
    await waitFor(async () => (await status(id)) === 'completed', 15_000);
    expect(await listed('ticker=IDXB&status=completed')).toEqual([id]);
  });
});

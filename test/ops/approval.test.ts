import { resolve } from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentProfileSchema, closeQueues, createRedisConnection, expireDueApprovals, openQueues, productKeys, readCounters } from '../../src/core/index.ts';
import { createApp, LiveEvents, type LiveEvent } from '../../src/dashboard/index.ts';
import { parseScheduleText } from '../../src/scheduler/index.ts';
import { startWorkers, type WorkerService } from '../../src/tasks/index.ts';
import { deletePrefix, silentLogger, testConfig, waitFor } from '../support/redis-test-env.ts';

/** Human in the loop, end to end: a real worker holds the decision, the API settles it, the paper ledger shows the truth. */
const config = testConfig('approval', { CYCLE_MODULE: resolve('test/support/approval-cycle.ts') });
const producer = createRedisConnection(config, 'producer');
const queues = openQueues(producer, config.QUEUE_PREFIX);
const keys = productKeys(config.QUEUE_PREFIX);
const live = new LiveEvents(config, keys, queues, silentLogger);
const app = createApp({ config, logger: silentLogger, redis: producer, keys, queues, now: () => new Date() }, { live });
const events: LiveEvent[] = [];
let worker: WorkerService;

beforeAll(async () => {
  await waitFor(() => producer.status === 'ready');
  await live.ready();
  live.on((e) => events.push(e));
  await producer.hset(keys.agents, 'desk', JSON.stringify(agentProfileSchema.parse({ approval: 'required' })));
  worker = await startWorkers(config, silentLogger, { sandbox: false });
});
afterAll(async () => {
  await worker?.stop();
  await live.close();
  await closeQueues(queues);
  producer.disconnect();
  await deletePrefix(config.QUEUE_PREFIX);
});

async function held(ticker: string): Promise<string> {
  const id = (await request(app).post('/api/jobs').send({ ticker, agent: 'desk' })).body.job_id;
  await waitFor(async () => (await request(app).get(`/api/jobs/${id}`)).body.status === 'awaiting_approval', 15_000);
  return id;
}
const trades = async () => (await request(app).get('/api/portfolio/desk')).body.trades ?? [];

describe('approval: required', () => {
  it('the schedule file accepts `approval: required` and rejects other values naming the field', () => {
    const ok = parseScheduleText('agents:\n  desk: { approval: required }\nschedules: []\n', 's.yaml');
    expect(ok.agents.desk!.approval).toBe('required');
    expect(() => parseScheduleText('agents:\n  desk: { approval: maybe }\nschedules: []\n', 's.yaml')).toThrow(/agents\.desk\.approval/);
  });

  it('holds the decision (no fill, decision.pending); an approval fills the ledger once at the decision price', async () => {
    const id = await held('BUYCO');
    const pendingEvent = await waitFor(() => events.find((e) => e.type === 'decision.pending' && e.job_id === id));
    expect(pendingEvent).toMatchObject({ ticker: 'BUYCO', decision: 'BUY', price: 100 });
    const before = (await request(app).get(`/api/jobs/${id}/result`)).body;
    expect(before).toMatchObject({ status: 'awaiting_approval', decision: 'BUY', fill: null, approval: { status: 'pending' } });
    expect(await trades()).toEqual([]);
    expect((await request(app).get('/api/decisions')).body.pending.map((p: { job_id: string }) => p.job_id)).toContain(id);
    expect((await request(app).get('/api/jobs?status=awaiting_approval')).body.jobs.map((j: { job_id: string }) => j.job_id)).toContain(id);

    const approved = await request(app).post(`/api/decisions/${id}/approve`).send({ by: 'alice', note: 'looks right' });
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({ status: 'approved', settled_by: 'alice', note: 'looks right', fill: { side: 'BUY' } });
    // Bought at the decision's price plus the profile's 5 bps slippage.
    expect(approved.body.fill.price).toBeCloseTo(100.05, 2);
    expect(approved.body.fill.quantity).toBeGreaterThan(0);
    const view = (await request(app).get(`/api/jobs/${id}`)).body;
    expect(view.status).toBe('completed');
    expect(view.approval.status).toBe('approved');
    expect((await request(app).get(`/api/jobs/${id}/result`)).body.fill).toEqual(approved.body.fill);
    expect((await trades()).map((t: { job_id: string }) => t.job_id)).toEqual([id]);
    await waitFor(() => events.find((e) => e.type === 'decision.approved' && e.job_id === id));

    const twice = await request(app).post(`/api/decisions/${id}/approve`).send({});
    expect(twice.status).toBe(409);
    expect(twice.body.details[0]).toEqual({ field: 'status', message: 'approved' });
    expect(await trades()).toHaveLength(1);
  });

  it('a rejection fills nothing; an unsettled decision expires at the close; both are counted', async () => {
    const rejectedId = await held('SELLCO');
    const rejected = await request(app).post(`/api/decisions/${rejectedId}/reject`).send({ by: 'bob', note: 'no' });
    expect(rejected.body).toMatchObject({ status: 'rejected', settled_by: 'bob', fill: null });
    expect((await request(app).get(`/api/jobs/${rejectedId}`)).body.status).toBe('rejected');
    expect((await request(app).post(`/api/decisions/${rejectedId}/approve`)).status).toBe(409);

    const expiringId = await held('BUYLATE');
    const pending = (await request(app).get(`/api/jobs/${expiringId}`)).body.approval;
    expect(Date.parse(pending.expires_at)).toBeGreaterThan(Date.now());
    // The sweep at the session's close, as the worker runs it on its heartbeat.
    expect(await expireDueApprovals(producer, keys, new Date(Date.parse(pending.expires_at)))).toEqual([expiringId]);
    expect((await request(app).get(`/api/jobs/${expiringId}`)).body).toMatchObject({ status: 'expired', approval: { status: 'expired', fill: null } });
    expect((await request(app).post(`/api/decisions/${expiringId}/approve`)).status).toBe(409);
    expect((await trades()).map((t: { job_id: string }) => t.job_id)).not.toContain(expiringId);
    expect((await trades()).map((t: { job_id: string }) => t.job_id)).not.toContain(rejectedId);

    const counts = Object.fromEntries((await readCounters(producer, keys)).filter((c) => c.name === 'approvals_total').map((c) => [c.labels.outcome, c.value]));
    expect(counts).toMatchObject({ pending: 3, approved: 1, rejected: 1, expired: 1 });
    const line = /^tradeloop_approvals_total\{agent="desk",outcome="expired"\} 1$/m;
    expect(await waitFor(async () => line.test((await request(app).get('/metrics')).text), 5_000)).toBe(true);
    expect((await request(app).post('/api/decisions/nope/approve')).status).toBe(404);
    expect((await request(app).post(`/api/decisions/${expiringId}/reject`).send({ note: 5 })).status).toBe(400);
  });
});

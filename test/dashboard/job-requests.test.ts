import { randomUUID } from 'node:crypto';
import type { Express } from 'express';
import { Redis } from 'ioredis';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { agentProfileSchema, BUILTIN_AGENTS, CYCLE_JOB_NAME, cycleJobDataSchema, openQueues, PRIORITY_QUEUE, scheduleEntrySchema, type Config } from '../../src/core/index.ts';
import { MarketCalendar } from '../../src/calendar/index.ts';
import { createApp } from '../../src/dashboard/index.ts';
import { desiredSchedulers, parseScheduleText } from '../../src/scheduler/index.ts';
import { replayJobId } from '../../src/replay/index.ts';
import { dashboardHarness } from '../support/dashboard-harness.ts';
import { TEST_REDIS_URL } from '../support/redis-test-env.ts';

const harness = dashboardHarness('jobreq');

async function makeApp(env: Record<string, string> = {}): Promise<{ app: Express; config: Config; queues: ReturnType<typeof openQueues> }> {
  const { deps, config, keys, queues } = await harness.open(env);
  // A published LLM agent with one extra allowed model, and a schedule to trigger.
  const admin = new Redis(TEST_REDIS_URL);
  const desk = agentProfileSchema.parse({ engine: 'llm', quick_model: 'gpt-4o-mini', deep_model: 'gpt-4o', allowed_models: ['gpt-4.1-mini'], debate_rounds: 2, analysts: ['market', 'news'], max_tokens_per_cycle: 100_000 });
  await admin.hset(keys.agents, 'desk', JSON.stringify(desk));
  await admin.hset(keys.schedules, 'pair', JSON.stringify(scheduleEntrySchema.parse({ id: 'pair', agent: 'quant', tickers: ['SPY', 'QQQ'], every: '1h' })));
  admin.disconnect();
  return { app: createApp(deps), config, queues };
}

describe('a job config can only tighten its profile', () => {
  it.each([
    [{ agent: 'quant', config: { engine: 'llm' } }, 'config.engine'],
    [{ agent: 'desk', config: { quick_model: 'o3-pro' } }, 'config.quick_model'],
    [{ agent: 'desk', config: { deep_model: 'unpriced-model' } }, 'config.deep_model'],
    [{ agent: 'desk', config: { debate_rounds: 3 } }, 'config.debate_rounds'],
    [{ agent: 'desk', config: { analysts: ['market', 'fundamentals'] } }, 'config.analysts'],
    [{ agent: 'desk', config: { max_tokens_per_cycle: 150_000 } }, 'config.max_tokens_per_cycle'],
    [{ agent: 'quant', config: { max_tokens_per_cycle: 5_000_000 } }, 'config.max_tokens_per_cycle'],
  ])('400 names the field for %j', async (body, field) => {
    const { app } = await sharedApp();
    const res = await request(app).post('/api/jobs').send({ ticker: 'SPY', ...body });
    expect(res.status).toBe(400);
    expect(res.body.details.map((d: { field: string }) => d.field)).toContain(field);
  });

  it('accepts a tighter config and a model from allowed_models', async () => {
    const { app } = await sharedApp();
    for (const config of [{ quick_model: 'gpt-4.1-mini', debate_rounds: 1, analysts: ['news'], max_tokens_per_cycle: 50_000 }, { engine: 'quant' }]) {
      const res = await request(app).post('/api/jobs').send({ ticker: 'SPY', agent: 'desk', config });
      expect(res.status, JSON.stringify(config)).toBe(202);
    }
  });
});

describe('which agent a job request gets', () => {
  it('a published agent named like a built-in one wins; an unknown one lists both kinds', async () => {
    const { deps, keys, queues } = await harness.open();
    const admin = new Redis(TEST_REDIS_URL);
    await admin.hset(keys.agents, 'quant', JSON.stringify(agentProfileSchema.parse({ engine: 'quant', max_tokens_per_cycle: 1234 })), 'desk', JSON.stringify(agentProfileSchema.parse({ engine: 'quant' })));
    admin.disconnect();
    const app = createApp(deps);
    const made = await request(app).post('/api/jobs').send({ ticker: 'SPY', agent: 'quant' });
    expect(made.status).toBe(202);
    const job = await queues[PRIORITY_QUEUE].getJob(made.body.job_id);
    expect(cycleJobDataSchema.parse(job!.data).profile.max_tokens_per_cycle).toBe(1234);
    const unknown = await request(app).post('/api/jobs').send({ ticker: 'SPY', agent: 'ghost' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.details[0].message).toContain('unknown agent "ghost"');
    for (const name of [...Object.keys(BUILTIN_AGENTS), 'desk']) expect(unknown.body.details[0].message).toContain(name);
  });
});

describe('names and ids that are not ours', () => {
  it('treats inherited names like constructor as unknown agents (400, not 500)', async () => {
    const { app } = await sharedApp();
    for (const agent of ['constructor', 'hasownproperty', 'valueof']) {
      const res = await request(app).post('/api/jobs').send({ ticker: 'SPY', agent });
      expect(res.status, agent).toBe(400);
      expect(res.body.details[0].field).toBe('agent');
    }
  });

  it('refuses job ids we never issue before they reach Redis (404, not 500), and still finds real ones', async () => {
    const { app } = await sharedApp();
    const uuid = randomUUID();
    for (const id of ['meta', 'events', 'id', `${uuid}:lock`, 'repeat:x', 'wait', encodeURIComponent('a b'), 'limiter']) {
      for (const path of [`/api/jobs/${id}`, `/api/jobs/${id}/result`]) {
        const res = await request(app).get(path);
        expect(res.status, path).toBe(404);
        expect(res.body.details[0].field).toBe('id');
      }
      expect((await request(app).delete(`/api/jobs/${id}`)).status).toBe(404);
    }
    expect((await request(app).get(`/api/jobs/${uuid}`)).status).toBe(404);
    expect((await request(app).get('/api/jobs/repeat:pair:SPY:1767225600000')).status).toBe(404);
    const made = await request(app).post('/api/jobs').send({ ticker: 'SPY' });
    expect((await request(app).get(`/api/jobs/${made.body.job_id}`)).status).toBe(200);
  });

  it('cancelling a job already cancelled is a 409 naming its status, as for any finished job (was a 404)', async () => {
    const { app } = await makeApp();
    const made = await request(app).post('/api/jobs').send({ ticker: 'SPY' });
    expect((await request(app).delete(`/api/jobs/${made.body.job_id}`)).status).toBe(200);
    expect((await request(app).get(`/api/jobs/${made.body.job_id}`)).body.status).toBe('cancelled');
    const again = await request(app).delete(`/api/jobs/${made.body.job_id}`);
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ error: 'job is already cancelled', details: [{ field: 'status', message: 'cancelled' }] });
  });

  it("a replay's cycle, listed by GET /api/jobs, is also answered by id (its job page works)", async () => {
    const { app, queues } = await makeApp();
    const data = cycleJobDataSchema.parse({ agent: 'quant', ticker: 'SPY', trigger: 'replay', profile: BUILTIN_AGENTS.quant, date: '2026-11-20' });
    const id = replayJobId('20261202-cfb607cf', 4);
    await queues['trading-cycle'].add(CYCLE_JOB_NAME, data, { jobId: id });
    const res = await request(app).get(`/api/jobs/${id}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ job_id: id, ticker: 'SPY', status: 'pending' });
    expect((await request(app).get(`/api/jobs/${id}/logs`)).status).toBe(200);
    // Only the shape a replay issues: a look-alike still stops before Redis.
    expect((await request(app).get('/api/jobs/replay-x-meta')).status).toBe(404);
  });
});

describe('job creation limits', () => {
  it('rate limits job creation and triggers per client with 429 and Retry-After', async () => {
    const { app } = await makeApp({ JOBS_PER_MINUTE: '3' });
    for (let i = 0; i < 3; i++) expect((await request(app).post('/api/jobs').send({ ticker: 'SPY' })).status).toBe(202);
    const limited = await request(app).post('/api/jobs').send({ ticker: 'SPY' });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited.body.details[0].message).toMatch(/JOBS_PER_MINUTE/);
    // A trigger counts one cycle per ticker and shares the allowance.
    expect((await request(app).post('/api/schedules/pair/trigger').send({})).status).toBe(429);
  });

  it('refuses new cycles once the queue holds MAX_QUEUE_DEPTH waiting jobs', async () => {
    const { app, queues } = await makeApp({ MAX_QUEUE_DEPTH: '3', JOBS_PER_MINUTE: '100' });
    expect((await request(app).post('/api/schedules/pair/trigger').send({})).status).toBe(202);
    expect((await request(app).post('/api/jobs').send({ ticker: 'SPY' })).status).toBe(202);
    const full = await request(app).post('/api/jobs').send({ ticker: 'SPY' });
    expect(full.status).toBe(429);
    expect(full.body.error).toBe('queue is full');
    expect(full.body.details[0].field).toBe('queue');
    expect(full.headers['retry-after']).toBe('30');
    expect((await request(app).post('/api/schedules/pair/trigger').send({})).status).toBe(429);
    expect(await queues[PRIORITY_QUEUE].count()).toBe(3);
  });
});

describe('retry settings', () => {
  it('CYCLE_ATTEMPTS and CYCLE_BACKOFF_MS reach jobs created by the API and by triggers', async () => {
    const { app, queues } = await makeApp({ CYCLE_ATTEMPTS: '7', CYCLE_BACKOFF_MS: '1234' });
    const made = await request(app).post('/api/jobs').send({ ticker: 'SPY' });
    const trig = await request(app).post('/api/schedules/pair/trigger').send({ ticker: 'QQQ' });
    for (const id of [made.body.job_id, trig.body.job_ids[0]]) {
      const job = await queues[PRIORITY_QUEUE].getJob(id);
      expect(job?.opts.attempts).toBe(7);
      expect(job?.opts.backoff).toMatchObject({ delay: 1234 });
    }
  });

  it('reach the job templates of the scheduler, where a schedule\'s own attempts still win', () => {
    const set = parseScheduleText('schedules:\n  - { id: a, agent: quant, ticker: SPY, every: 1m, market_hours: always }\n  - { id: b, agent: quant, ticker: QQQ, every: 1m, market_hours: always, attempts: 2 }\n', 'schedules.yaml');
    const [a, b] = desiredSchedulers(set, new Set(), new MarketCalendar(), new Date(), { CYCLE_ATTEMPTS: 9, CYCLE_BACKOFF_MS: 4321 });
    expect(a!.template.opts).toMatchObject({ attempts: 9, backoff: { delay: 4321 } });
    expect(b!.template.opts).toMatchObject({ attempts: 2, backoff: { delay: 4321 } });
  });
});

let shared: Promise<Awaited<ReturnType<typeof makeApp>>> | null = null;
function sharedApp() {
  shared ??= makeApp({ JOBS_PER_MINUTE: '1000' });
  return shared;
}

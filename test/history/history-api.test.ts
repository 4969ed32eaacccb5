import { execFile } from 'node:child_process';
import type { Express } from 'express';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeQueues, createRedisConnection, cycleJobDataSchema, openQueues, productKeys, ZERO_USAGE, type Config } from '../../src/core/index.ts';
import { createApp } from '../../src/dashboard/index.ts';
import { cycleRecord, openHistory, outboxDepth, queueHistory, type HistoryStore } from '../../src/history/index.ts';
import { findJob, startWorkers, type WorkerService } from '../../src/tasks/index.ts';
import { runCycle } from '../support/test-cycle.ts';
import { deletePrefix, silentLogger, testConfig, waitFor } from '../support/redis-test-env.ts';
import { closedDatabaseUrl, dropSchema, query, TEST_DATABASE_URL, uniqueSchema } from '../support/pg-test-env.ts';
import { startTcpProxy } from '../support/tcp-proxy.ts';

/**
 * The durable history end to end: real workers write their cycles to a real PostgreSQL (a schema of
 * this test's own), the API serves jobs Redis no longer holds from it, and a database that is down
 * fails no job and loses no record.
 */
const schemas: string[] = [];
const prefixes: string[] = [];
const closers: Array<() => Promise<unknown>> = [];

function setup(name: string, env: Record<string, string>) {
  const schema = uniqueSchema(name);
  schemas.push(schema);
  const config = testConfig(name, { DATABASE_SCHEMA: schema, WORKER_SANDBOX: '0', ...env });
  prefixes.push(config.QUEUE_PREFIX);
  const redis = createRedisConnection(config, 'producer');
  const queues = openQueues(redis, config.QUEUE_PREFIX);
  const history = openHistory(config, silentLogger);
  const app = createApp({ config, logger: silentLogger, redis, keys: productKeys(config.QUEUE_PREFIX), queues, now: () => new Date(), history });
  closers.push(async () => {
    await history?.close();
    await closeQueues(queues);
    redis.disconnect();
  });
  return { config, schema, redis, queues, history: history!, app };
}

afterAll(async () => {
  for (const close of closers.reverse()) await close().catch(() => undefined);
  for (const p of prefixes) await deletePrefix(p);
  for (const s of schemas) await dropSchema(s);
});

/** Redis ready, and the load status a running scheduler publishes: /readyz then answers on the history alone. */
async function connected(env: ReturnType<typeof setup>) {
  await waitFor(() => env.redis.status === 'ready');
  await env.redis.set(productKeys(env.config.QUEUE_PREFIX).scheduleStatus, JSON.stringify({ file: 'schedules.yaml', ok: true, loaded_at: new Date().toISOString(), schedules: 0 }));
}

const waitStatus = (app: Express, id: string, statuses: string[]) =>
  waitFor(async () => {
    const r = await request(app).get(`/api/jobs/${id}`);
    return statuses.includes(r.body.status) ? r.body : null;
  }, 60_000, 100);

describe('with DATABASE_URL, a real worker', () => {
  let env: ReturnType<typeof setup>;
  let worker: WorkerService;
  const ids: string[] = [];
  beforeAll(async () => {
    env = setup('history-api', { DATABASE_URL: TEST_DATABASE_URL });
    await connected(env);
    worker = await startWorkers(env.config, silentLogger, { concurrency: 2 });
    closers.push(() => worker.stop());
  }, 60_000);

  it('writes every finished cycle to PostgreSQL: job, decision, reports, fill, usage', async () => {
    for (const ticker of ['NVDA', 'AAPL', 'MSFT']) {
      const res = await request(env.app).post('/api/jobs').send({ ticker });
      expect(res.status).toBe(202);
      ids.push(res.body.job_id);
    }
    for (const id of ids) await waitStatus(env.app, id, ['completed']);
    const rows = await waitFor(async () => {
      const r = await query<Record<string, unknown>>(env.schema, 'SELECT * FROM cycles ORDER BY ticker');
      return r.length === 3 ? r : null;
    }, 30_000, 100);
    expect(rows.map((r) => r.ticker)).toEqual(['AAPL', 'MSFT', 'NVDA']);
    for (const row of rows) {
      expect(row).toMatchObject({ queue: 'trading-cycle-priority', agent: 'quant', trigger: 'api', status: 'completed', attempts: 1, engine: 'quant', data_source: 'simulated' });
      expect(['BUY', 'SELL', 'HOLD']).toContain(row.decision);
      expect(typeof row.price).toBe('number');
      expect((row.reports as { final: string }).final.length).toBeGreaterThan(0);
      expect(row.fill === null ? typeof row.fill_note : 'filled').toMatch(/string|filled/);
      expect(row.cost_usd).toBe(0);
      expect(row.started_at).toBeInstanceOf(Date);
      const api = await request(env.app).get(`/api/jobs/${row.job_id as string}/result`);
      expect(api.body.decision).toBe(row.decision);
      expect((row.result as { decision: string }).decision).toBe(row.decision);
    }
    expect(await outboxDepth(env.redis, productKeys(env.config.QUEUE_PREFIX))).toBe(0);
  }, 90_000);

  it('the scorecard read from PostgreSQL matches the Redis one for the same cycles', async () => {
    const fromHistory = await request(env.app).get('/api/agents/quant/scorecard');
    const fromRedis = await request(env.app).get('/api/agents/quant/scorecard?source=redis');
    expect(fromHistory.status).toBe(200);
    expect(fromRedis.status).toBe(200);
    expect(fromHistory.body.source).toBe('history');
    expect(fromRedis.body.source).toBe('redis');
    expect(fromHistory.body.decisions).toBe(3);
    expect({ ...fromHistory.body, source: null }).toEqual({ ...fromRedis.body, source: null });
    expect((await request(env.app).get('/api/agents/quant/scorecard?source=bogus')).status).toBe(400);
  });

  it('a job removed from Redis is still served from PostgreSQL: view, result, listing', async () => {
    const id = ids[0]!;
    const before = await request(env.app).get(`/api/jobs/${id}/result`);
    const found = await findJob(env.queues, id);
    await found!.job.remove();
    expect(await findJob(env.queues, id)).toBeNull();
    const view = await request(env.app).get(`/api/jobs/${id}`);
    expect(view.status).toBe(200);
    expect(view.body).toMatchObject({ job_id: id, status: 'completed', ticker: 'NVDA', agent: 'quant', attempts: 1, source: 'history', decision: before.body.decision });
    const result = await request(env.app).get(`/api/jobs/${id}/result`);
    expect(result.status).toBe(200);
    const { source, ...kept } = result.body as Record<string, unknown>;
    expect(source).toBe('history');
    expect(kept).toEqual(before.body);
    const cli = await new Promise<{ code: number; out: string }>((done) =>
      execFile(process.execPath, ['bin/tradeloop.mjs', 'result', id, '--json'], { env: { ...process.env, REDIS_URL: env.config.REDIS_URL, QUEUE_PREFIX: env.config.QUEUE_PREFIX, DATABASE_URL: TEST_DATABASE_URL, DATABASE_SCHEMA: env.schema, LOG_LEVEL: 'silent' } }, (err, out) =>
        done({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, out }),
      ),
    );
    expect(cli.code).toBe(0);
    expect(JSON.parse(cli.out)).toMatchObject({ job_id: id, status: 'completed', decision: before.body.decision });
    const bars = await request(env.app).get(`/api/jobs/${id}/bars`);
    expect(bars.status).toBe(200);
    expect(bars.body).toMatchObject({ job_id: id, bars_from: 'result', decision: before.body.decision });
    expect(bars.body.bars.length).toBeGreaterThan(10);
    const page1 = await request(env.app).get('/api/history?agent=quant&limit=2');
    expect(page1.status).toBe(200);
    expect(page1.body.jobs).toHaveLength(2);
    const page2 = await request(env.app).get(`/api/history?agent=quant&limit=2&cursor=${page1.body.next_cursor as string}`);
    expect(page2.body.jobs).toHaveLength(1);
    expect(page2.body.next_cursor).toBeNull();
    expect([...page1.body.jobs, ...page2.body.jobs].map((j: { job_id: string }) => j.job_id).sort()).toEqual([...ids].sort());
    expect((await request(env.app).get('/api/history?ticker=NVDA')).body.jobs.map((j: { job_id: string }) => j.job_id)).toEqual([id]);
    expect((await request(env.app).get('/api/history?cursor=bogus')).body.details[0].field).toBe('cursor');
    expect((await request(env.app).get('/api/jobs/6f1c2a4e-0000-4000-8000-00000000ffff')).status).toBe(404);
  });

  it('an LLM cycle\'s desk reports and calls come back from PostgreSQL once Redis has let them expire', async () => {
    const id = '6f1c2a4e-0000-4000-8000-0000000000aa';
    const data = cycleJobDataSchema.parse({ agent: 'desk', ticker: 'AMD', trigger: 'api', profile: { engine: 'llm' }, date: '2026-02-12' });
    const calls = [{ role: 'portfolio_manager', model: 'gpt-4o', prompt_tokens: 10, completion_tokens: 5, cost_usd: 0.001, latency_ms: 50, attempt: 1 }];
    const result = { ...(await runCycle(data, { reportProgress: async () => undefined, signal: new AbortController().signal, attempt: 1 } as never)), engine: 'llm' as const, calls, role_reports: { portfolio_manager: 'hold it' }, usage: { ...ZERO_USAGE, calls: 1 } };
    await queueHistory(env.redis, productKeys(env.config.QUEUE_PREFIX), cycleRecord({ id, queue: 'trading-cycle', data, dueAt: Date.now(), attempts: 1 }, { status: 'completed', result }, Date.now()));
    const reports = await waitFor(async () => {
      const r = await request(env.app).get(`/api/jobs/${id}/reports`);
      return r.status === 200 ? r.body : null;
    }, 30_000, 100);
    expect(reports).toMatchObject({ job_id: id, agent: 'desk', status: 'completed', role_reports: { portfolio_manager: 'hold it' }, calls, source: 'history' });
  }, 60_000);

  it('/readyz and /metrics report the history database and its outbox', async () => {
    const ready = await request(env.app).get('/readyz');
    expect(ready.body.history).toMatchObject({ reachable: true, outbox_depth: 0 });
    expect(ready.body.degraded).toBeUndefined();
    const metrics = await request(env.app).get('/metrics');
    expect(metrics.text).toMatch(/^tradeloop_history_outbox_depth 0$/m);
    expect(metrics.text).toMatch(/^tradeloop_history_database_up 1$/m);
    expect(metrics.text).toMatch(/^tradeloop_history_records_written_total [1-9]/m);
  });
});

describe('with PostgreSQL down', () => {
  it('no job fails and no record is lost: they wait in the outbox until a writer reaches the database', async () => {
    const env = setup('history-down', { DATABASE_URL: await closedDatabaseUrl() });
    await connected(env);
    const keys = productKeys(env.config.QUEUE_PREFIX);
    let worker = await startWorkers(env.config, silentLogger, { concurrency: 2, runCycle });
    const ok = (await request(env.app).post('/api/jobs').send({ ticker: 'OKAY' })).body.job_id as string;
    const perm = (await request(env.app).post('/api/jobs').send({ ticker: 'PERM' })).body.job_id as string;
    expect(await waitStatus(env.app, ok, ['completed', 'failed'])).toMatchObject({ status: 'completed' });
    expect(await waitStatus(env.app, perm, ['completed', 'failed'])).toMatchObject({ status: 'failed' });
    expect(await outboxDepth(env.redis, keys)).toBe(2);
    await waitFor(async () => Number(await env.redis.hget(keys.custom('counters'), 'history_write_failures_total')) >= 1, 30_000, 100);
    const ready = await request(env.app).get('/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body.history).toMatchObject({ reachable: false, outbox_depth: 2 });
    expect(ready.body.degraded[0]).toMatch(/history database unreachable/);
    expect(JSON.stringify(ready.body)).not.toContain('not-the-password');
    // A job Redis still holds is served from Redis while the database is away.
    expect((await request(env.app).get(`/api/jobs/${ok}`)).status).toBe(200);
    expect((await request(env.app).get('/metrics')).text).toMatch(/^tradeloop_history_outbox_depth 2$/m);
    await worker.stop();

    // The database is back: a worker restarted with a reachable DATABASE_URL drains the outbox.
    const upConfig: Config = { ...env.config, DATABASE_URL: TEST_DATABASE_URL };
    worker = await startWorkers(upConfig, silentLogger, { concurrency: 1, runCycle });
    closers.push(() => worker.stop());
    await waitFor(async () => (await outboxDepth(env.redis, keys)) === 0, 30_000, 100);
    const rows = await query<{ job_id: string; status: string; error: string | null; decision: string | null }>(env.schema, 'SELECT job_id, status, error, decision FROM cycles ORDER BY status');
    expect(rows).toEqual([
      { job_id: ok, status: 'completed', error: null, decision: 'HOLD' },
      { job_id: perm, status: 'failed', error: 'unknown ticker PERM', decision: null },
    ]);
  }, 120_000);
});

describe('PostgreSQL cut off and back, under a running worker', () => {
  it('the same writer reconnects and drains what finished meanwhile; no job fails', async () => {
    const target = new URL(TEST_DATABASE_URL);
    const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    closers.push(() => proxy.close());
    const url = new URL(TEST_DATABASE_URL);
    url.port = String(proxy.port);
    const env = setup('history-cut', { DATABASE_URL: url.toString() });
    await connected(env);
    const keys = productKeys(env.config.QUEUE_PREFIX);
    const worker = await startWorkers(env.config, silentLogger, { concurrency: 2, runCycle });
    closers.push(() => worker.stop());
    const first = (await request(env.app).post('/api/jobs').send({ ticker: 'FIRST' })).body.job_id as string;
    await waitFor(async () => (await query(env.schema, 'SELECT 1 FROM cycles WHERE job_id = $1', [first]).catch(() => [])).length === 1, 30_000, 100);

    await proxy.cut();
    const during = [];
    for (const ticker of ['CUTA', 'CUTB']) during.push((await request(env.app).post('/api/jobs').send({ ticker })).body.job_id as string);
    for (const id of during) expect(await waitStatus(env.app, id, ['completed', 'failed'])).toMatchObject({ status: 'completed' });
    await waitFor(async () => Number(await env.redis.hget(keys.custom('counters'), 'history_write_failures_total')) >= 1, 30_000, 100);
    expect(await outboxDepth(env.redis, keys)).toBe(2);

    await proxy.restore();
    await waitFor(async () => (await outboxDepth(env.redis, keys)) === 0, 60_000, 100);
    const rows = await query<{ job_id: string; status: string }>(env.schema, 'SELECT job_id, status FROM cycles ORDER BY job_id');
    expect(rows.map((r) => r.job_id).sort()).toEqual([first, ...during].sort());
    expect(rows.every((r) => r.status === 'completed')).toBe(true);
  }, 120_000);
});

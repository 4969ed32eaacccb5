import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeQueues, createRedisConnection, DEFAULT_QUEUE, openQueues, productKeys } from '../../src/core/index.ts';
import { createApp } from '../../src/dashboard/index.ts';
import { openHistory, type HistoryStore } from '../../src/history/index.ts';
import { startReplayHost, type ReplayHost } from '../../src/replay/index.ts';
import { startWorkers, type WorkerService } from '../../src/tasks/index.ts';
import { deletePrefix, silentLogger, testConfig, waitFor } from '../support/redis-test-env.ts';
import { closedDatabaseUrl, dropSchema, query, TEST_DATABASE_URL, uniqueSchema } from '../support/pg-test-env.ts';

/** A finished replay's report is kept in PostgreSQL and served from there once Redis has forgotten the replay. */
const schema = uniqueSchema('history_replay');
const config = testConfig('history-replay', { DATABASE_URL: TEST_DATABASE_URL, DATABASE_SCHEMA: schema, WORKER_SANDBOX: '0', WORKER_CONCURRENCY: '2' });
const keys = productKeys(config.QUEUE_PREFIX);
const redis = createRedisConnection(config, 'producer');
const queues = openQueues(redis, config.QUEUE_PREFIX);
let history: HistoryStore;
let workers: WorkerService;
let host: ReplayHost;
let app: ReturnType<typeof createApp>;

beforeAll(async () => {
  await waitFor(() => redis.status === 'ready');
  history = openHistory(config, silentLogger)!;
  workers = await startWorkers(config, silentLogger, { queues: [DEFAULT_QUEUE] });
  host = await startReplayHost(config, silentLogger, { pollMs: 100, tickMs: 100, leaseTtlMs: 3_000 });
  app = createApp({ config, logger: silentLogger, redis, keys, queues, now: () => new Date(), history });
}, 30_000);

afterAll(async () => {
  await host?.stop();
  await workers?.stop();
  await history?.close();
  await closeQueues(queues);
  redis.disconnect();
  await deletePrefix(config.QUEUE_PREFIX);
  await dropSchema(schema);
});

describe('replay reports in the durable history', () => {
  it('are written when the replay ends and read back when Redis no longer has the replay', async () => {
    const res = await request(app).post('/api/replays').send({ profiles: ['quant'], tickers: ['SPY'], from: '2025-12-01', to: '2025-12-05' });
    expect(res.status).toBe(202);
    const id = res.body.replay_id as string;
    const done = await waitFor(async () => {
      const r = await request(app).get(`/api/replays/${id}`);
      return r.body.status !== 'running' ? r.body : null;
    }, 90_000, 100);
    expect(done.status).toBe('done');
    const row = await waitFor(async () => (await query<{ status: string; report: { report: { replay_id: string } } }>(schema, 'SELECT status, report FROM replay_reports WHERE replay_id = $1', [id]))[0], 30_000, 100);
    expect(row.status).toBe('done');
    expect(row.report.report.replay_id).toBe(id);
    // The replay's own cycles are on record too, kept apart from the live scorecard.
    const cycles = await waitFor(async () => {
      const r = await query<{ n: string }>(schema, "SELECT count(*) AS n FROM cycles WHERE trigger = 'replay' AND status = 'completed'");
      return r[0]!.n === '5' ? r : null;
    }, 30_000, 100);
    expect(cycles[0]!.n).toBe('5');
    expect(await history.scoredDecisions('quant')).toEqual([]);

    // Redis forgets the replay (expired, another install's Redis): the API still serves it.
    for await (const batch of redis.scanStream({ match: `${config.QUEUE_PREFIX}:replay:*`, count: 500 })) for (const key of batch as string[]) await redis.del(key);
    const kept = await request(app).get(`/api/replays/${id}`);
    expect(kept.status).toBe(200);
    const strip = (b: { report: { generated_at?: string } }) => ({ ...b, report: { ...b.report, generated_at: null } });
    expect(strip(kept.body)).toEqual(strip(done));
    const csv = await request(app).get(`/api/replays/${id}/report.csv`);
    expect(csv.status).toBe(200);
    expect(csv.text.split('\n').length).toBeGreaterThan(5);
    expect((await request(app).get('/api/replays/nope-123')).status).toBe(404);
    // And the list still names it, from the history, as it was when it finished.
    const list = await request(app).get('/api/replays');
    expect(list.status).toBe(200);
    expect(list.body.replays.map((r: { replay_id: string }) => r.replay_id)).toContain(id);
    expect(list.body.replays.find((r: { replay_id: string }) => r.replay_id === id)).toEqual(done.report ? (({ report: _r, ...view }) => view)(done) : done);
  }, 150_000);

  it('a history database that does not answer costs the replay list its kept entries, never the live ones', async () => {
    const down = openHistory({ ...config, DATABASE_URL: await closedDatabaseUrl() }, silentLogger)!;
    try {
      const downApp = createApp({ config, logger: silentLogger, redis, keys, queues, now: () => new Date(), history: down });
      const started = await request(app).post('/api/replays').send({ profiles: ['quant'], tickers: ['SPY'], from: '2025-12-08', to: '2025-12-09' });
      expect(started.status).toBe(202);
      const list = await request(downApp).get('/api/replays');
      expect(list.status).toBe(200);
      expect(list.body.replays.map((r: { replay_id: string }) => r.replay_id)).toContain(started.body.replay_id);
      expect(list.body.history_unavailable).toMatch(/./);
    } finally {
      await down.close();
    }
  }, 60_000);
});

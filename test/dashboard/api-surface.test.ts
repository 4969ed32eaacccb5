import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeQueues, createRedisConnection, openQueues, productKeys, scheduleEntrySchema, type Config } from '../../src/core/index.ts';
import { createApp } from '../../src/dashboard/index.ts';
import { mountBullBoard } from '../../src/dashboard/bull-board.ts';
import { openApiDocument } from '../../src/dashboard/openapi.ts';
import { deletePrefix, silentLogger, testConfig, waitFor } from '../support/redis-test-env.ts';

/** The JSON API's surface: an unknown query field on any GET route, what a schedule item carries. */
const configs: Config[] = [];
const closers: Array<() => void | Promise<void>> = [];
afterAll(async () => {
  for (const c of closers.reverse()) await c();
  await Promise.all(configs.map((c) => deletePrefix(c.QUEUE_PREFIX)));
});

async function makeApp(env: Record<string, string> = {}) {
  const config = testConfig('api-surface', env);
  configs.push(config);
  const redis = createRedisConnection(config, 'producer');
  await waitFor(() => redis.status === 'ready');
  const queues = openQueues(redis, config.QUEUE_PREFIX);
  const keys = productKeys(config.QUEUE_PREFIX);
  closers.push(async () => {
    await closeQueues(queues);
    redis.disconnect();
  });
  const app = createApp({ config, logger: silentLogger, redis, keys, queues, now: () => new Date() }, { mount: (a) => mountBullBoard(a, queues, false, config.BASE_PATH) });
  return { app, redis, keys };
}

type Paths = Record<string, Record<string, unknown>>;
const documented = openApiDocument().paths as Paths;
/** A documented path with its parameters filled in: an id of the form tradeloop issues, a built-in agent, a real queue. */
const concrete = (path: string) => path.replace('{agent}', 'quant').replace('{name}', 'trading-cycle').replace(/\{\w+\}/g, '00000000-0000-4000-8000-000000000000');

let app: Awaited<ReturnType<typeof makeApp>>['app'];
beforeAll(async () => {
  ({ app } = await makeApp());
});

describe('a query field a GET route does not take', () => {
  it('is a 400 naming it on every GET route, those without filters included', async () => {
    for (const [path, ops] of Object.entries(documented)) {
      // Without DATABASE_URL the history listing is a 404 whatever its query; its filters are refused as the jobs list's are.
      if (!('get' in ops) || path === '/api/history') continue;
      const res = await request(app).get(`${concrete(path)}?bogus=1`);
      expect(res.status, path).toBe(400);
      expect(res.body, path).toEqual({ error: 'invalid request query', details: [{ field: 'bogus', message: 'unknown field' }] });
    }
  });

  it('the same routes without a query still answer; the pages and Bull Board keep their own query strings', async () => {
    for (const path of ['/api/schedules', '/api/queues', '/api/workers', '/api/decisions', '/api/portfolio', '/api/replays', '/api/openapi.json']) {
      expect((await request(app).get(path)).status, path).toBe(200);
    }
    expect((await request(app).get('/jobs?status=failed&ticker=SPY')).status).toBe(200);
    expect((await request(app).get('/login?next=%2Fjobs')).status).toBe(200);
    expect((await request(app).get('/?view=compact')).status).toBe(200);
    const board = await request(app).get('/admin/queues/api/queues?activeQueue=trading-cycle&status=latest&page=1&jobsPerPage=10');
    expect(board.status).toBe(200);
    expect(board.body.queues.map((q: { name: string }) => q.name)).toContain('trading-cycle');
  });
});

describe('schedule items', () => {
  it("carry the schedule file's description, or null when the entry has none, as the document says", async () => {
    const { app: withSchedules, redis, keys } = await makeApp();
    const described = scheduleEntrySchema.parse({ id: 'index', agent: 'quant', tickers: ['SPY'], every: '1h', description: 'Index ETFs, hourly in the regular session' });
    const bare = scheduleEntrySchema.parse({ id: 'nightly', agent: 'quant', ticker: 'QQQ', cron: '0 18 * * 1-5', market_hours: 'always' });
    await redis.hset(keys.schedules, 'index', JSON.stringify(described), 'nightly', JSON.stringify(bare));
    const list = await request(withSchedules).get('/api/schedules');
    expect(list.status).toBe(200);
    const byId = Object.fromEntries(list.body.schedules.map((s: { id: string }) => [s.id, s]));
    expect(byId.index).toHaveProperty('description', 'Index ETFs, hourly in the regular session');
    expect(byId.nightly).toHaveProperty('description', null);
    expect((await request(withSchedules).get('/api/schedules/nightly')).body).toHaveProperty('description', null);
    const schema = (await request(withSchedules).get('/api/openapi.json')).body.components.schemas.Schedule;
    expect(schema.properties.description).toMatchObject({ type: 'string', nullable: true, maxLength: 500 });
  });
});

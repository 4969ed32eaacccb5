import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scheduleEntrySchema } from '../../src/core/index.ts';
import { createApp } from '../../src/dashboard/index.ts';
import { mountBullBoard } from '../../src/dashboard/bull-board.ts';
import { openApiDocument } from '../../src/dashboard/openapi.ts';
import { dashboardHarness } from '../support/dashboard-harness.ts';

/** The JSON API's surface: a wrong method or an unknown query field on any path, what a schedule item carries. */
const harness = dashboardHarness('api-surface');

async function makeApp(env: Record<string, string> = {}) {
  const { deps, redis, keys, queues, config } = await harness.open(env);
  const app = createApp(deps, { mount: (a) => mountBullBoard(a, queues, false, config.BASE_PATH) });
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

describe('a method the path does not take', () => {
  it('is 405 with Allow listing the methods the path takes, in the usual error body', async () => {
    const res = await request(app).post('/api/queues').send({});
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe('GET, HEAD');
    expect(res.body).toEqual({ error: 'method not allowed', details: [{ field: '(method)', message: 'POST is not accepted on /api/queues; it takes GET, HEAD' }] });
    expect((await request(app).post('/api/jobs/x')).headers.allow).toBe('GET, HEAD, DELETE');
    expect((await request(app).get('/api/schedules/x/trigger')).headers.allow).toBe('POST');
    // Answered before the body is read: a malformed body does not turn it into a 400.
    const put = await request(app).put('/api/jobs').set('content-type', 'application/json').send('{not json');
    expect(put.status).toBe(405);
    expect(put.headers.allow).toBe('GET, HEAD, POST');
  });

  it('on every documented path, Allow is exactly what the document says the path takes', async () => {
    for (const [path, ops] of Object.entries(documented)) {
      const methods = Object.keys(ops).map((m) => m.toUpperCase());
      const res = await request(app).patch(concrete(path));
      expect(res.status, path).toBe(405);
      const expected = new Set([...methods, ...(methods.includes('GET') ? ['HEAD'] : [])]);
      expect(new Set(res.headers.allow!.split(', ')), path).toEqual(expected);
    }
  });

  it('an unknown path stays 404, a right method is served, OPTIONS still answers', async () => {
    expect((await request(app).post('/api/nothing-here')).status).toBe(404);
    expect((await request(app).get('/api/queues')).status).toBe(200);
    expect((await request(app).head('/api/queues')).status).toBe(200);
    const options = await request(app).options('/api/jobs');
    expect(options.status).toBe(200);
    expect(options.headers.allow).toContain('POST');
  });

  it('under BASE_PATH the message names the public path', async () => {
    const { app: based } = await makeApp({ BASE_PATH: '/tl' });
    const res = await request(based).delete('/tl/api/workers');
    expect(res.status).toBe(405);
    expect(res.body.details[0].message).toBe('DELETE is not accepted on /tl/api/workers; it takes GET, HEAD');
  });
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

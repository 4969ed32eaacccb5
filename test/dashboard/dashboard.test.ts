import http from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import { cycleOptionsSchema, cycleResultSchema, JOB_STATUSES } from '../../src/core/index.ts';
import { createApp } from '../../src/dashboard/index.ts';
import { openApiDocument } from '../../src/dashboard/openapi.ts';
import { API_ROUTERS } from '../../src/dashboard/routes/api-routers.ts';
import { startWorkers, type WorkerService } from '../../src/tasks/index.ts';
import { dashboardHarness } from '../support/dashboard-harness.ts';
import { silentLogger, waitFor } from '../support/redis-test-env.ts';

const TOKEN = 'correct-horse-battery-staple';
const harness = dashboardHarness('dashboard');

async function makeApp(env: Record<string, string> = {}, withLive = false) {
  const { deps, config, live } = await harness.open(env, { live: withLive });
  return { app: createApp(deps, { live }), config, live };
}

describe('auth', () => {
  it('is open on loopback without a token', async () => {
    const { app } = await makeApp();
    expect((await request(app).get('/api/queues')).status).toBe(200);
    expect((await request(app).get('/').set('accept', 'text/html')).text).toContain('tradeloop');
  });

  it('with a token: API needs the bearer token, pages redirect to login, health stays open', async () => {
    const { app } = await makeApp({ DASHBOARD_TOKEN: TOKEN });
    const denied = await request(app).get('/api/queues');
    expect(denied.status).toBe(401);
    expect(denied.body.details[0].field).toBe('authorization');
    expect((await request(app).get('/api/queues').set('authorization', `Bearer ${TOKEN}`)).status).toBe(200);
    expect((await request(app).get('/api/queues').set('authorization', 'Bearer wrong-token-wrong-token')).status).toBe(401);
    const page = await request(app).get('/').set('accept', 'text/html');
    expect(page.status).toBe(303);
    expect(page.headers.location).toBe('/login?next=%2F');
    expect((await request(app).get('/healthz')).status).toBe(200);
    expect((await request(app).get('/admin/queues')).status).toBe(401);
    expect((await request(app).post('/api/jobs').send({ ticker: 'SPY' })).status).toBe(401);
  });

  it('login sets an HttpOnly SameSite=Strict cookie (not the token); cookie writes need our header or same origin', async () => {
    const { app } = await makeApp({ DASHBOARD_TOKEN: TOKEN });
    const bad = await request(app).post('/login').type('form').send({ token: 'nope', next: '/' });
    expect(bad.headers.location).toMatch(/error=1/);
    const ok = await request(app).post('/login').type('form').send({ token: TOKEN, next: '/jobs/x' });
    expect(ok.status).toBe(303);
    expect(ok.headers.location).toBe('/jobs/x');
    const cookie = String(ok.headers['set-cookie']);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    expect(cookie).not.toContain(TOKEN);
    const session = cookie.split(';')[0]!;
    expect((await request(app).get('/api/queues').set('cookie', session)).status).toBe(200);
    const csrf = await request(app).post('/api/jobs').set('cookie', session).send({ ticker: 'SPY' });
    expect(csrf.status).toBe(403);
    expect((await request(app).post('/api/jobs').set('cookie', session).set('x-tradeloop-request', '1').send({ ticker: 'SPY' })).status).toBe(202);
    const open = await request(app).post('/login').type('form').send({ token: TOKEN, next: '//evil.example' });
    expect(open.headers.location).toBe('/');
  });

  it('METRICS_PUBLIC=0 puts /metrics behind the token', async () => {
    const { app } = await makeApp({ DASHBOARD_TOKEN: TOKEN, METRICS_PUBLIC: '0' }, true);
    expect((await request(app).get('/metrics')).status).toBe(401);
    expect((await request(app).get('/metrics').set('authorization', `Bearer ${TOKEN}`)).status).toBe(200);
  });

  it('read-only mode refuses every write with 403 and says so on the page', async () => {
    const { app } = await makeApp({ DASHBOARD_READONLY: '1' });
    const res = await request(app).post('/api/jobs').send({ ticker: 'SPY' });
    expect(res.status).toBe(403);
    expect(res.body.error).toBe('dashboard is read-only');
    expect((await request(app).delete('/api/jobs/x')).status).toBe(403);
    expect((await request(app).post('/api/schedules/x/pause')).status).toBe(403);
    expect((await request(app).get('/')).text).toContain('data-readonly="1"');
  });
});

describe('live events, metrics and readiness with a real worker', () => {
  let worker: WorkerService;
  let ctx: Awaited<ReturnType<typeof makeApp>>;
  beforeAll(async () => {
    ctx = await makeApp({}, true);
    worker = await startWorkers(ctx.config, silentLogger, { sandbox: false });
    harness.onClose(() => worker.stop());
  });

  it('SSE delivers cycle.started and cycle.completed for a real job', async () => {
    const server = http.createServer(ctx.app).listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    harness.onClose(() => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const events: Array<{ type: string; job_id?: string; decision?: string }> = [];
    const stream = await fetch(`${base}/api/events`);
    expect(stream.headers.get('content-type')).toContain('text/event-stream');
    const reader = stream.body!.getReader();
    const pump = (async () => {
      let buf = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buf += new TextDecoder().decode(value);
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const chunk = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const data = chunk.split('\n').find((l) => l.startsWith('data: '));
          if (data) events.push(JSON.parse(data.slice(6)));
        }
      }
    })();
    await new Promise((r) => setTimeout(r, 200));
    const posted = await (await fetch(`${base}/api/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ticker: 'AMD' }) })).json();
    const done = await waitFor(() => events.find((e) => e.type === 'cycle.completed' && e.job_id === posted.job_id), 15_000);
    expect(['BUY', 'SELL', 'HOLD']).toContain(done.decision);
    expect(events.some((e) => e.type === 'cycle.started' && e.job_id === posted.job_id)).toBe(true);
    await reader.cancel();
    await pump.catch(() => undefined);
  });

  it('/metrics is Prometheus text and moves when a job completes', async () => {
    const scrape = async () => (await request(ctx.app).get('/metrics')).text;
    const value = (text: string, line: RegExp) => Number(text.split('\n').find((l) => line.test(l))?.split(' ').pop() ?? 0);
    const before = await scrape();
    for (const line of before.split('\n').filter((l) => l && !l.startsWith('#'))) {
      expect(line).toMatch(/^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})? -?[0-9.e+-]+$|NaN$/);
    }
    expect(before).toContain('# TYPE tradeloop_queue_jobs gauge');
    expect(before).toContain('# TYPE tradeloop_cycle_duration_seconds histogram');
    const completedBefore = value(before, /^tradeloop_cycles_completed_total\{.*queue="trading-cycle-priority"/);
    const posted = await request(ctx.app).post('/api/jobs').send({ ticker: 'INTC' });
    await waitFor(async () => (await request(ctx.app).get(`/api/jobs/${posted.body.job_id}`)).body.status === 'completed', 15_000);
    const after = await waitFor(async () => {
      const t = await scrape();
      return value(t, /^tradeloop_cycles_completed_total\{.*queue="trading-cycle-priority"/) > completedBefore ? t : null;
    }, 5_000);
    expect(value(after, /^tradeloop_workers_online /)).toBeGreaterThanOrEqual(1);
    expect(value(after, /^tradeloop_cycle_duration_seconds_count/)).toBeGreaterThanOrEqual(1);
  });

  it('/readyz is 503 until a schedule is loaded', async () => {
    const res = await request(ctx.app).get('/readyz');
    expect(res.status).toBe(503);
    expect(res.body.error).toBe('no schedule loaded yet');
  });

  it('portfolio and scorecard endpoints show the paper account; unknown agent 404, bad name 400', async () => {
    const list = await request(ctx.app).get('/api/portfolio');
    expect(list.body.portfolios.map((p: { agent: string }) => p.agent)).toContain('quant');
    const one = await request(ctx.app).get('/api/portfolio/quant');
    expect(one.body.starting_cash).toBe(100_000);
    expect(one.body.equity_curve.length).toBeGreaterThan(0);
    expect((await request(ctx.app).get('/api/agents/quant/scorecard')).body.decisions).toBeGreaterThan(0);
    expect((await request(ctx.app).get('/api/portfolio/ghost')).status).toBe(404);
    expect((await request(ctx.app).get('/api/portfolio/BAD NAME')).status).toBe(400);
  });
});

describe('query fields', () => {
  it('a mistyped one is a 400 naming it, not a silent answer without the filter', async () => {
    const { app } = await makeApp();
    for (const [path, field] of [['/api/agents/quant/lessons?tickr=SPY', 'tickr'], ['/api/agents/quant/scorecard?sorce=redis', 'sorce'], ['/api/market/status?ta=2026-11-27T12:00:00Z', 'ta']] as const) {
      const res = await request(app).get(path);
      expect(res.status, path).toBe(400);
      expect(res.body.details).toEqual([{ field, message: 'unknown field' }]);
    }
    expect((await request(app).get('/api/agents/quant/lessons?ticker=SPY&limit=5')).status).toBe(200);
    expect((await request(app).get('/api/market/status?at=2026-11-27T12:00:00Z')).status).toBe(200);
  });
});

describe('OpenAPI document', () => {
  it('documents every API route, and every documented path exists', async () => {
    const { config } = await makeApp();
    const ctxStub = { config, logger: silentLogger } as never;
    const actual = new Set<string>(['GET /api/openapi.json', 'GET /api/events']);
    for (const factory of API_ROUTERS) {
      const router = factory(ctxStub) as unknown as { stack: Array<{ route?: { path: string; methods: Record<string, boolean> } }> };
      for (const layer of router.stack) {
        if (!layer.route) continue;
        for (const method of Object.keys(layer.route.methods)) actual.add(`${method.toUpperCase()} /api${layer.route.path.replace(/:(\w+)/g, '{$1}')}`);
      }
    }
    const documented = new Set<string>();
    for (const [path, ops] of Object.entries(openApiDocument().paths)) for (const m of Object.keys(ops)) documented.add(`${m.toUpperCase()} ${path}`);
    expect([...actual].sort()).toEqual([...documented].sort());
    const { app } = await makeApp();
    expect((await request(app).get('/api/openapi.json')).body.openapi).toBe('3.0.3');
  });

  it('documents the refusals the routes really answer: 403 on writes, 429 on cycle creation, 401 on itself', async () => {
    const paths = openApiDocument().paths as Record<string, Record<string, { security?: unknown[]; responses: Record<string, unknown> }>>;
    for (const [path, ops] of Object.entries(paths)) {
      for (const [method, op] of Object.entries(ops)) if (method !== 'get') expect(op.responses['403'], `${method} ${path}`).toBeDefined();
    }
    const { app: readOnly } = await makeApp({ DASHBOARD_READONLY: '1' });
    expect((await request(readOnly).post('/api/jobs').send({ ticker: 'SPY' })).status).toBe(403);
    expect((await request(readOnly).delete('/api/replays/x')).status).toBe(403);
    expect(paths['/api/jobs']!.post!.responses['429']).toBeDefined();
    expect(paths['/api/schedules/{id}/trigger']!.post!.responses['429']).toBeDefined();
    const { app: limited } = await makeApp({ JOBS_PER_MINUTE: '1' });
    expect((await request(limited).post('/api/jobs').send({ ticker: 'SPY' })).status).toBe(202);
    expect((await request(limited).post('/api/jobs').send({ ticker: 'SPY' })).status).toBe(429);
    // The document is behind the token like the rest of /api, so it must not claim to need none.
    const { app: guarded } = await makeApp({ DASHBOARD_TOKEN: TOKEN });
    expect((await request(guarded).get('/api/openapi.json')).status).toBe(401);
    expect(paths['/api/openapi.json']!.get!.security).toBeUndefined();
    expect(paths['/api/openapi.json']!.get!.responses['401']).toBeDefined();
  });

  it("documents every field of a job's result", () => {
    const documented = Object.keys((openApiDocument().components.schemas.Result as { properties: object }).properties);
    for (const field of [...Object.keys(cycleResultSchema.shape), 'job_id', 'status']) expect(documented, field).toContain(field);
  });

  it('documents the fields and values the job routes really take', async () => {
    const { app } = await makeApp();
    const doc = (await request(app).get('/api/openapi.json')).body;
    const create = doc.components.schemas.CreateJob.properties;
    // Every config field the route accepts (the reasoning efforts included), and only those.
    expect(Object.keys(create.config.properties).sort()).toEqual(Object.keys(cycleOptionsSchema.shape).sort());
    expect(create.config.additionalProperties).toBe(false);
    expect(create.config.properties.quick_reasoning_effort.enum).toContain('minimal');
    const accepted = await request(app).post('/api/jobs').send({ ticker: 'SPY', config: { quick_reasoning_effort: 'low', deep_reasoning_effort: 'high' } });
    expect(accepted.status).toBe(202);
    // dry_run: only true is accepted, as the document says.
    expect(create.dry_run.enum).toEqual([true]);
    expect((await request(app).post('/api/jobs').send({ ticker: 'SPY', dry_run: false })).status).toBe(400);
    const params = Object.fromEntries(doc.paths['/api/jobs'].get.parameters.map((p: { name: string; schema: unknown }) => [p.name, p.schema]));
    expect(params.status.enum).toEqual([...JOB_STATUSES]);
    expect(params.limit).toMatchObject({ minimum: 1, maximum: 500, default: 50 });
    for (const status of params.status.enum) expect((await request(app).get(`/api/jobs?status=${status}`)).status).toBe(200);
    expect((await request(app).get('/api/jobs?limit=501')).status).toBe(400);
  });
});

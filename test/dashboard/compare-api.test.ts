import request from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import { recordDecision } from '../../src/agents/index.ts';
import { createApp } from '../../src/dashboard/index.ts';
import { runCli } from '../support/cli-process.ts';
import { dashboardHarness } from '../support/dashboard-harness.ts';

/** GET /api/agents/:agent/compare/:other over decisions recorded in a real Redis. */
const harness = dashboardHarness('compare');
let app: ReturnType<typeof createApp>;

beforeAll(async () => {
  const { deps, redis, config } = await harness.open();
  app = createApp(deps);
  const prefix = config.QUEUE_PREFIX;
  let n = 0;
  const decide = (agent: string, ticker: string, session: string, decision: 'BUY' | 'SELL' | 'HOLD', cost: number, extra: Record<string, unknown> = {}) =>
    recordDecision(redis, prefix, { job_id: `job-${n++}`, agent, ticker, date: session, price_date: session, decision, price: 100, models: agent === 'gpt' ? ['gpt-5'] : ['llama3.1:8b'], cost_usd: cost, cycle_ms: 1000, at: `${session}T20:00:00.000Z`, data_source: 'yahoo', ...extra });
  await decide('gpt', 'NVDA', '2026-11-02', 'BUY', 0.42);
  await decide('gpt', 'NVDA', '2026-11-03', 'SELL', 0.38);
  await decide('gpt', 'AAPL', '2026-11-03', 'HOLD', 0.4, { cost_unknown: true });
  await decide('local', 'NVDA', '2026-11-02', 'BUY', 0);
  await decide('local', 'NVDA', '2026-11-03', 'BUY', 0);
  await decide('local', 'AAPL', '2026-11-03', 'HOLD', 0);
  await decide('local', 'AAPL', '2026-11-04', 'BUY', 0);
});

describe('head to head of two agents', () => {
  it('compares the points both decided, with each side\'s known cost and unknown costs counted apart', async () => {
    const res = await request(app).get('/api/agents/gpt/compare/local');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ source: 'redis', shared: 3, agreement_rate: 0.6667, cost_ratio: null, ticker: null });
    expect(res.body.confusion.SELL.BUY).toBe(1);
    expect(res.body.a).toMatchObject({ agent: 'gpt', decisions: 3, cost_usd: 0.8, cost_unknown: 1, avg_cost_usd: 0.4 });
    expect(res.body.b).toMatchObject({ agent: 'local', decisions: 4, cost_usd: 0, cost_unknown: 0, avg_cost_usd: 0 });
  });

  it('narrows to a ticker and a window of sessions', async () => {
    const nvda = await request(app).get('/api/agents/gpt/compare/local?ticker=nvda&from=2026-11-03&to=2026-11-03');
    expect(nvda.status).toBe(200);
    expect(nvda.body).toMatchObject({ shared: 1, agreement_rate: 0, ticker: 'NVDA', from: '2026-11-03', to: '2026-11-03' });
  });

  it('names the field it refuses', async () => {
    const cases: Array<[string, number, string]> = [
      ['/api/agents/gpt/compare/nobody', 404, 'other'],
      ['/api/agents/gpt/compare/gpt', 400, 'other'],
      ['/api/agents/gpt/compare/local?from=2026-02-30', 400, 'from'],
      ['/api/agents/gpt/compare/local?from=2026-11-04&to=2026-11-03', 400, 'to'],
      ['/api/agents/gpt/compare/local?ticker=not%20a%20ticker', 400, 'ticker'],
      ['/api/agents/gpt/compare/local?source=history', 400, 'source'],
      ['/api/agents/gpt/compare/local?since=2026-11-01', 400, 'since'],
    ];
    for (const [path, status, field] of cases) {
      const res = await request(app).get(path);
      expect(res.status, path).toBe(status);
      expect(JSON.stringify(res.body.details ?? res.body), path).toContain(field);
    }
  });
});

describe('tradeloop compare', () => {
  it('prints the same head to head as the API, as a table or JSON, and exits 1 for an agent with no decisions', async () => {
    const env = { ...process.env, REDIS_URL: harness.config().REDIS_URL, QUEUE_PREFIX: harness.config().QUEUE_PREFIX, DATABASE_URL: undefined, LOG_LEVEL: 'silent' };
    const json = await runCli(['compare', 'gpt', 'local', '--json'], env);
    expect(json.code, json.err).toBe(0);
    const api = await request(app).get('/api/agents/gpt/compare/local');
    expect(JSON.parse(json.out)).toEqual(api.body);
    const text = await runCli(['compare', 'gpt', 'local', '--ticker', 'NVDA'], env);
    expect(text.code, text.err).toBe(0);
    expect(text.out).toContain('gpt vs local: 2 decision point(s) both decided (from redis)');
    expect(text.out).toMatch(/gpt\s+2\s+0\s+—\s+—\s+\$0\.4000/);
    const none = await runCli(['compare', 'gpt', 'nobody'], env);
    expect(none.code).toBe(1);
    expect(none.err).toContain('agent "nobody" has no decisions');
    expect((await runCli(['compare', 'gpt', '--from', '2026-13-01', 'local'], env)).code).toBe(2);
  });
});

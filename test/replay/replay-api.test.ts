import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getPortfolio, getScorecard } from '../../src/agents/index.ts';
import { agentProfileSchema, scheduleEntrySchema, closeQueues, createRedisConnection, DEFAULT_QUEUE, openQueues, productKeys, type Config } from '../../src/core/index.ts';
import { createApp } from '../../src/dashboard/index.ts';
import { LiveEvents } from '../../src/dashboard/live-events.ts';
import { CSV_COLUMNS, REPLAY_PRIORITY, startReplayHost, type ReplayHost } from '../../src/replay/index.ts';
import { startWorkers, type WorkerService } from '../../src/tasks/index.ts';
import { defaultAnswer, startFakeOpenAI } from '../support/fake-openai-server.ts';
import { deletePrefix, silentLogger, testConfig, waitFor } from '../support/redis-test-env.ts';

let config: Config;
let app: ReturnType<typeof createApp>;
let workers: WorkerService;
let host: ReplayHost;
let fake: Awaited<ReturnType<typeof startFakeOpenAI>>;
const closers: Array<() => Promise<void> | void> = [];
const redis = () => createRedisConnection(config, 'producer');
let r: ReturnType<typeof redis>;
let queues: ReturnType<typeof openQueues>;

beforeAll(async () => {
  // The LLM fake answers a little slowly, so parallel cycles overlap visibly. The portfolio manager of
  // fake-flaky answers 500 to its first four asks (one attempt's: the call is retried three times), that
  // of fake-broken to every ask: their attempts fail having paid for the calls before.
  const asks = new Map<string, number>();
  fake = await startFakeOpenAI(async (req) => {
    if (req.role === 'portfolio manager' && (req.body.model === 'fake-flaky' || req.body.model === 'fake-broken')) {
      const ask = JSON.stringify([req.body.model, req.body.messages]);
      asks.set(ask, (asks.get(ask) ?? 0) + 1);
      if (req.body.model === 'fake-broken' || asks.get(ask)! <= 4) return { status: 500, error: { message: 'upstream hiccup' } };
    }
    // fake-silent is priced, but its server reports no usage (`"usage": null`): its calls' tokens and cost are not known.
    const usage = req.body.model === 'fake-silent' ? null : { prompt_tokens: 1000, completion_tokens: 100 };
    return { content: defaultAnswer(req.role, req.body.model === 'fake-b' ? 'Underweight' : 'Overweight'), delayMs: 40, usage };
  });
  config = testConfig('replay-api', {
    OPENAI_BASE_URL: fake.baseURL,
    OPENAI_API_KEY: 'test-key',
    LLM_PRICES: JSON.stringify({ 'fake-a': { input: 100, output: 100 }, 'fake-b': { input: 50, output: 50 }, 'fake-flaky': { input: 100, output: 100 }, 'fake-broken': { input: 100, output: 100 }, 'fake-silent': { input: 100, output: 100 } }),
    CYCLE_BACKOFF_MS: '50',
    WORKER_SANDBOX: '0',
    WORKER_CONCURRENCY: '2',
    // The file's LLM replays make well over the default 60 calls a minute; the limiter is not under test here.
    CALLS_PER_MINUTE: '100000',
  });
  r = redis();
  await waitFor(() => r.status === 'ready');
  queues = openQueues(r, config.QUEUE_PREFIX);
  const keys = productKeys(config.QUEUE_PREFIX);
  const llm = (model: string) => JSON.stringify(agentProfileSchema.parse({ engine: 'llm', quick_model: model, deep_model: model, analysts: ['market'], debate_rounds: 0, risk_rounds: 0 }));
  await r.hset(keys.agents, {
    'quant-wide': JSON.stringify(agentProfileSchema.parse({ engine: 'quant', portfolio: { starting_cash: 50_000, target_percent: 0.5, commission_per_trade: 0, slippage_bps: 0 } })),
    'llm-a': llm('fake-a'),
    'llm-b': llm('fake-b'),
    'llm-flaky': llm('fake-flaky'),
    'llm-broken': llm('fake-broken'),
    'llm-silent': llm('fake-silent'),
    // A token budget of 1 500 stops the cycle at its second call (1 100 tokens each): it fails having spent.
    'llm-tight': JSON.stringify(agentProfileSchema.parse({ engine: 'llm', quick_model: 'fake-a', deep_model: 'fake-a', analysts: ['market'], debate_rounds: 0, risk_rounds: 0, max_tokens_per_cycle: 1_500 })),
  });
  // A cron schedule as the scheduler publishes it: 10:00, 12:00 and 14:00 New York on weekdays.
  await r.hset(keys.schedules, 'midday', JSON.stringify(scheduleEntrySchema.parse({ id: 'midday', agent: 'quant', ticker: 'SPY', cron: '0 10,12,14 * * 1-5' })));
  workers = await startWorkers(config, silentLogger, { queues: [DEFAULT_QUEUE] });
  host = await startReplayHost(config, silentLogger, { pollMs: 100, tickMs: 100, leaseTtlMs: 3_000 });
  const live = new LiveEvents(config, keys, queues, silentLogger);
  app = createApp({ config, logger: silentLogger, redis: r, keys, queues, now: () => new Date() }, { live });
  closers.push(() => live.close());
}, 30_000);

afterAll(async () => {
  await host?.stop();
  await workers?.stop();
  for (const c of closers.reverse()) await c();
  await closeQueues(queues);
  r?.disconnect();
  await fake?.close();
  await deletePrefix(config.QUEUE_PREFIX);
});

async function finished(id: string, timeoutMs = 60_000) {
  return waitFor(async () => {
    const res = await request(app).get(`/api/replays/${id}`);
    return res.body.status !== 'running' ? res.body : null;
  }, timeoutMs, 100);
}

describe('POST /api/replays', () => {
  it('answers 400 naming the field', async () => {
    const ok = { profiles: ['quant'], tickers: ['SPY'], from: '2025-12-01', to: '2025-12-31' };
    const field = async (body: object) => {
      const res = await request(app).post('/api/replays').send(body);
      expect(res.status).toBe(400);
      return res.body.details.map((d: { field: string }) => d.field);
    };
    expect(await field({ ...ok, profiles: ['ghost'] })).toEqual(['profiles.0']);
    expect(await field({ ...ok, from: '2025-02-30' })).toEqual(['from']);
    expect(await field({ ...ok, from: '2025-12-31', to: '2025-12-01' })).toEqual(['from']);
    expect(await field({ ...ok, to: '2999-01-01' })).toEqual(['to']);
    expect(await field({ ...ok, from: '1990-01-01', tickers: Array.from({ length: 20 }, (_, k) => `T${k}`), profiles: ['quant', 'quant-wide'] })).toEqual(['to']);
    expect(await field({ ...ok, tickers: [] })).toEqual(['tickers']);
    expect(await field({ ...ok, schedule: 'nope' })).toEqual(['schedule']);
    expect((await request(app).get('/api/replays/Bad_Id')).status).toBe(400);
    expect((await request(app).get('/api/replays/nope-123')).status).toBe(404);
  });

  it('replays a quant desk over December 2025 (22 sessions) in its own ledger, never the live one', async () => {
    const keys = productKeys(config.QUEUE_PREFIX);
    // A live cycle first: the live portfolio and scorecard exist and must not move.
    const live = await request(app).post('/api/jobs').send({ ticker: 'SPY', agent: 'quant-wide', queue: 'trading-cycle' });
    expect(live.status).toBe(202);
    await waitFor(async () => (await request(app).get(`/api/jobs/${live.body.job_id}`)).body.status === 'completed', 20_000);
    const before = await getPortfolio(r, config.QUEUE_PREFIX, 'quant-wide');
    const cardBefore = await getScorecard(r, config.QUEUE_PREFIX, 'quant-wide');
    expect(before).not.toBeNull();

    const res = await request(app).post('/api/replays').send({ profiles: ['quant-wide', 'quant'], tickers: ['SPY'], from: '2025-12-01', to: '2025-12-31' });
    expect(res.status).toBe(202);
    expect(res.body.replay_id).toMatch(/^[a-z0-9-]+$/);
    expect(res.body.progress).toMatchObject({ done: 0, total: 44 });
    expect(res.body.sessions).toBe(22);
    const id = res.body.replay_id as string;
    const job0 = await waitFor(() => queues[DEFAULT_QUEUE].getJob(`replay-${id}-0`));
    expect(job0.opts.priority).toBe(REPLAY_PRIORITY);
    expect(job0.data).toMatchObject({ trigger: 'replay', date: '2025-12-01', replay: { id, profile: 'quant-wide' } });

    const body = await finished(id);
    expect(body.status).toBe('done');
    expect(body.progress).toMatchObject({ done: 44, total: 44, failed: 0, by_profile: { 'quant-wide': { done: 22, total: 22 }, quant: { done: 22, total: 22 } } });
    const rep = body.report.profiles.find((p: { profile: string }) => p.profile === 'quant-wide');
    expect(rep.starting_cash).toBe(50_000);
    expect(rep.equity_curve).toHaveLength(22);
    expect(rep.by_day.map((d: { date: string }) => d.date)).not.toContain('2025-12-25');
    expect(rep.decisions.BUY + rep.decisions.SELL + rep.decisions.HOLD).toBe(22);
    expect(rep.data_sources).toEqual(['simulated']);
    expect(rep.cost_usd).toBe(0);
    expect(typeof rep.strategy.max_drawdown).toBe('number');
    // The same engine on the same data decides the same: full agreement, all on the diagonal.
    const [pair] = body.report.comparisons;
    expect(pair).toMatchObject({ a: 'quant-wide', b: 'quant', compared: 22, agreement_rate: 1, cost_ratio: null });
    expect(pair.confusion.BUY.BUY + pair.confusion.SELL.SELL + pair.confusion.HOLD.HOLD).toBe(22);

    // The live portfolio and scorecard did not move.
    const after = await getPortfolio(r, config.QUEUE_PREFIX, 'quant-wide');
    expect(after).toEqual(before);
    expect(await getScorecard(r, config.QUEUE_PREFIX, 'quant-wide')).toEqual(cardBefore);
    expect(await getPortfolio(r, config.QUEUE_PREFIX, 'quant')).toBeNull();
    expect(await r.exists(keys.custom('portfolio', 'quant', 'account'))).toBe(0);

    const csv = await request(app).get(`/api/replays/${id}/report.csv`);
    expect(csv.status).toBe(200);
    expect(csv.headers['content-type']).toContain('text/csv');
    const lines = csv.text.trimEnd().split('\r\n');
    expect(lines[0]!.split(',')).toEqual([...CSV_COLUMNS]);
    expect(lines).toHaveLength(1 + 44);
    const json = await request(app).get(`/api/replays/${id}/report.json`);
    expect(json.headers['content-disposition']).toContain(`replay-${id}.json`);
    expect(json.body.profiles).toHaveLength(2);

    const list = await request(app).get('/api/replays');
    expect(list.body.replays.map((x: { replay_id: string }) => x.replay_id)).toContain(id);
    expect((await request(app).delete(`/api/replays/${id}`)).status).toBe(409);
    const metrics = await request(app).get('/metrics');
    expect(metrics.text).toMatch(/tradeloop_replays\{status="done"\} [1-9]/);
    expect(metrics.text).toMatch(/tradeloop_replay_cycles [1-9]\d*/);
  }, 90_000);

  it("replays a cron schedule's intraday slots, each cycle seeing only the bars closed by its slot", async () => {
    // Dec 23: three slots; Dec 24 closes at 13:00 (two); Dec 25 is closed; Dec 26: three.
    const res = await request(app).post('/api/replays').send({ profiles: ['quant'], tickers: ['SPY'], from: '2025-12-23', to: '2025-12-26', schedule: 'midday' });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ schedule_id: 'midday', sessions: 3, slots: 8, progress: { total: 8 } });
    const id = res.body.replay_id as string;
    const body = await finished(id);
    expect(body.status).toBe('done');
    expect(body.progress).toMatchObject({ done: 8, failed: 0 });
    const jobs = await Promise.all(Array.from({ length: 8 }, (_, i) => queues[DEFAULT_QUEUE].getJob(`replay-${id}-${i}`)));
    const slots = jobs.map((j) => j!.data.replay.as_of as string);
    expect(slots.slice(0, 5)).toEqual(['2025-12-23T15:00:00.000Z', '2025-12-23T17:00:00.000Z', '2025-12-23T19:00:00.000Z', '2025-12-24T15:00:00.000Z', '2025-12-24T17:00:00.000Z']);
    for (const job of jobs) {
      const result = job!.returnvalue.result;
      // The decision is at the close of the last 5-minute bar closed by the slot: the slot's instant here.
      expect(result.as_of).toBe(job!.data.replay.as_of);
      expect(result.date).toBe(job!.data.date);
    }
    // Each slot's price came from its own session (the simulated source has every day's bars).
    expect(body.report.profiles[0].rows.every((row: { date: string; price_date: string }) => row.price_date === row.date)).toBe(true);
    // Two slots of one day see different bars, so their prices differ.
    expect(jobs[0]!.returnvalue.result.price).not.toBe(jobs[2]!.returnvalue.result.price);
  }, 90_000);

  it('runs a 2-profile LLM replay in parallel up to the workers’ concurrency and compares the desks', async () => {
    const res = await request(app).post('/api/replays').send({ profiles: ['llm-a', 'llm-b'], tickers: ['SPY'], from: '2025-12-01', to: '2025-12-05' });
    expect(res.status).toBe(202);
    const id = res.body.replay_id as string;
    const body = await finished(id);
    expect(body.status).toBe('done');
    const jobs = await Promise.all(Array.from({ length: 10 }, (_, i) => queues[DEFAULT_QUEUE].getJob(`replay-${id}-${i}`)));
    const spans = jobs.map((j) => [j!.processedOn!, j!.finishedOn!] as const);
    const overlapAt = (t: number) => spans.filter(([s, e]) => s <= t && t < e).length;
    const most = Math.max(...spans.map(([s]) => overlapAt(s)));
    expect(most).toBe(2);
    const [pair] = body.report.comparisons;
    // llm-a's manager says Overweight (BUY), llm-b's Underweight (SELL): they never agree.
    expect(pair).toMatchObject({ a: 'llm-a', b: 'llm-b', compared: 5, agreement_rate: 0 });
    expect(pair.confusion.BUY.SELL).toBe(5);
    expect(pair.cost_ratio).toBeCloseTo(2, 4);
    const a = body.report.profiles[0];
    expect(a.cost_usd).toBeGreaterThan(0);
    expect(a.tokens).toBeGreaterThan(0);
    expect(a.cycle_ms.p95).toBeGreaterThanOrEqual(a.cycle_ms.mean);
  }, 90_000);

  it('stops at the budget with status budget_exhausted and keeps the partial report', async () => {
    const res = await request(app).post('/api/replays').send({ profiles: ['llm-a'], tickers: ['SPY'], from: '2025-11-03', to: '2025-11-28', max_cost_usd: 1 });
    expect(res.status).toBe(202);
    const body = await finished(res.body.replay_id);
    expect(body.status).toBe('budget_exhausted');
    expect(body.progress.done).toBeGreaterThan(0);
    expect(body.progress.done).toBeLessThan(body.progress.total);
    expect(body.reason).toContain('budget');
    expect(body.report.profiles[0].rows).toHaveLength(body.progress.done);
    // It stops before the spend passes the budget by more than the cycles already in flight.
    expect(body.cost_usd).toBeLessThanOrEqual(1 + 2 * (body.cost_usd / body.progress.done));
  }, 90_000);

  it("counts a failed cycle's recorded model calls in its cost and the budget", async () => {
    const res = await request(app).post('/api/replays').send({ profiles: ['llm-tight'], tickers: ['SPY'], from: '2025-12-01', to: '2025-12-03' });
    const body = await finished(res.body.replay_id);
    expect(body.progress).toMatchObject({ done: 3, failed: 3 });
    const rows = body.report.profiles[0].rows as Array<{ status: string; cost_usd: number; tokens: number; error: string }>;
    for (const row of rows) {
      expect(row.status).toBe('failed');
      expect(row.error).toMatch(/token budget/i);
      // At least the first call (1 000 prompt + 100 completion tokens at $100 per million) was paid for.
      expect(row.tokens).toBeGreaterThanOrEqual(1_100);
      expect(row.cost_usd).toBeGreaterThanOrEqual(0.11);
    }
    expect(body.cost_usd).toBeCloseTo(rows.reduce((a, r) => a + r.cost_usd, 0), 6);
    expect(body.report.profiles[0].cost_usd).toBeCloseTo(body.cost_usd, 6);
  }, 60_000);

  it("counts every attempt's model calls of a retried cycle, completed or failed, in its cost and the budget", async () => {
    const res = await request(app).post('/api/replays').send({ profiles: ['llm-flaky', 'llm-broken'], tickers: ['SPY'], from: '2025-12-08', to: '2025-12-08', max_cost_usd: 50 });
    const body = await finished(res.body.replay_id);
    const [flaky, broken] = body.report.profiles.map((p: { rows: Array<{ status: string; tokens: number; cost_usd: number; job_id: string }> }) => p.rows[0]!);
    // 4 calls a cycle (market analyst, research manager, trader, portfolio manager) at 1 100 tokens and $100 per million.
    // llm-flaky: a first attempt of 3 paid calls, then a completed one of 4.
    const job = (await queues[DEFAULT_QUEUE].getJob(flaky.job_id))!;
    expect(job.attemptsMade).toBe(2);
    expect(flaky).toMatchObject({ status: 'completed', tokens: 7 * 1_100 });
    expect(flaky.cost_usd).toBeCloseTo(0.77, 9);
    expect(job.returnvalue.result.usage.total_tokens).toBe(4 * 1_100);
    expect(job.returnvalue.result.job_usage.total_tokens).toBe(7 * 1_100);
    // llm-broken: three attempts of 3 paid calls each, then failed for good.
    expect(broken).toMatchObject({ status: 'failed', tokens: 9 * 1_100 });
    expect(broken.cost_usd).toBeCloseTo(0.99, 9);
    const desk = (await request(app).get(`/api/jobs/${broken.job_id}/reports`)).body;
    expect(desk).toMatchObject({ attempt: 3, usage: { total_tokens: 3 * 1_100 }, earlier_attempts: { total_tokens: 6 * 1_100 }, job_usage: { total_tokens: 9 * 1_100 } });
    expect(body.cost_usd).toBeCloseTo(0.77 + 0.99, 9);
    expect(body.tokens).toBe(16 * 1_100);
  }, 90_000);

  it('says how many cycles had an unknown cost and never gives a partial sum as the total or a ratio of one', async () => {
    const res = await request(app).post('/api/replays').send({ profiles: ['llm-a', 'llm-silent'], tickers: ['SPY'], from: '2025-12-01', to: '2025-12-03' });
    const id = res.body.replay_id as string;
    const body = await finished(id);
    expect(body.status).toBe('done');
    expect(body.cost_unknown_cycles).toBe(3);
    const [a, silent] = body.report.profiles;
    expect(a).toMatchObject({ cost_unknown_cycles: 0 });
    expect(a.cost_usd).toBeCloseTo(3 * 4 * 0.11, 9);
    expect(silent).toMatchObject({ cost_unknown_cycles: 3, cost_usd: 0, tokens: 0 });
    expect(silent.rows.every((r: { cost_unknown: boolean }) => r.cost_unknown)).toBe(true);
    expect(a.rows.some((r: { cost_unknown: boolean }) => r.cost_unknown)).toBe(false);
    // $1.32 against $0 that is not known: no ratio, and the comparison says why.
    expect(body.report.comparisons[0]).toMatchObject({ a: 'llm-a', b: 'llm-silent', cost_ratio: null, cost_unknown_cycles: { a: 0, b: 3 } });
    const csv = (await request(app).get(`/api/replays/${id}/report.csv`)).text.trimEnd().split('\r\n');
    const col = CSV_COLUMNS.indexOf('cost_unknown');
    expect(csv.slice(1).map((line) => line.split(',')[col])).toEqual(['false', 'false', 'false', 'true', 'true', 'true']);
  }, 60_000);

  it('with max_cost_usd: refuses a profile whose hosted model has no price, and stops at the first cycle whose cost is not known', async () => {
    // The same install behind a hosted server: llm-a's and llm-b's models are priced by LLM_PRICES, acme-large is not.
    const keys = productKeys(config.QUEUE_PREFIX);
    await r.hset(keys.agents, 'llm-unpriced', JSON.stringify(agentProfileSchema.parse({ engine: 'llm', quick_model: 'fake-a', deep_model: 'acme-large', analysts: ['market'] })));
    const hosted = createApp({ config: { ...config, OPENAI_BASE_URL: 'https://llm.example.com/v1' }, logger: silentLogger, redis: r, keys, queues, now: () => new Date() });
    const refused = await request(hosted).post('/api/replays').send({ profiles: ['llm-a', 'llm-unpriced'], tickers: ['SPY'], from: '2025-12-01', to: '2025-12-05', max_cost_usd: 10 });
    expect(refused.status).toBe(400);
    expect(refused.body.details).toEqual([{ field: 'max_cost_usd', message: expect.stringMatching(/^profile "llm-unpriced" uses model "acme-large", which has no price on this hosted LLM server, so a budget cannot count its cost/) }]);
    // Without a budget nothing needs a price: it may run, and its report will say what is not known.
    expect((await request(hosted).post('/api/replays').send({ profiles: ['llm-unpriced'], tickers: ['SPY'], from: '2025-12-01', to: '2025-12-01' })).status).toBe(202);
    await waitFor(async () => (await request(app).get('/api/replays')).body.replays.every((x: { status: string }) => x.status !== 'running'), 30_000, 100);

    // A server that reports no usage is only found out by a cycle: the first one stops the replay, saying why.
    const res = await request(app).post('/api/replays').send({ profiles: ['llm-silent'], tickers: ['SPY'], from: '2025-11-03', to: '2025-11-28', max_cost_usd: 10 });
    const body = await finished(res.body.replay_id);
    expect(body.status).toBe('failed');
    expect(body.reason).toMatch(/^the cost of \d+ cycles? (is|are) not known \(the LLM server reported no token usage\), so the \$10 budget cannot be kept: stopped with at least \$0\.0000 spent$/);
    expect(body.progress.done).toBeGreaterThan(0);
    expect(body.progress.done).toBeLessThan(body.progress.total);
    expect(body.cost_unknown_cycles).toBe(body.progress.done);
  }, 60_000);

  it('cancels with DELETE: status cancelled at once, nothing more runs', async () => {
    const res = await request(app).post('/api/replays').send({ profiles: ['llm-a'], tickers: ['SPY', 'QQQ'], from: '2025-06-02', to: '2025-09-30' });
    const id = res.body.replay_id as string;
    await waitFor(async () => (await request(app).get(`/api/replays/${id}`)).body.progress.done >= 2, 30_000, 50);
    const del = await request(app).delete(`/api/replays/${id}`);
    expect(del.status).toBe(200);
    expect(del.body.status).toBe('cancelled');
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const settled = (await request(app).get(`/api/replays/${id}`)).body;
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const later = (await request(app).get(`/api/replays/${id}`)).body;
    expect(later.status).toBe('cancelled');
    expect(later.progress.done).toBe(settled.progress.done);
    expect(later.progress.done).toBeLessThan(later.progress.total);
    const left = await queues[DEFAULT_QUEUE].getJobs(['waiting', 'prioritized', 'active']);
    expect(left).toHaveLength(0);
  }, 60_000);
});

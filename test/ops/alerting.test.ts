import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import request from 'supertest';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resetMarketDataFallback, runTradingCycle } from '../../src/agents/index.ts';
import { agentProfileSchema, BUILTIN_AGENTS, closeQueues, createRedisConnection, CYCLE_JOB_NAME, cycleJobDataSchema, cycleJobOptions, openQueues, productKeys, scheduleEntrySchema } from '../../src/core/index.ts';
import { createApp } from '../../src/dashboard/index.ts';
import { enqueueCycle, startWorkers, type WorkerService } from '../../src/tasks/index.ts';
import { defaultAnswer, startFakeOpenAI } from '../support/fake-openai-server.ts';
import { runCycle as testCycle } from '../support/test-cycle.ts';
import { deletePrefix, silentLogger, testConfig, waitFor } from '../support/redis-test-env.ts';

const RULES = 'ops/prometheus/tradeloop-rules.yml';
const GRAFANA = 'ops/grafana/tradeloop-dashboard.json';
const openai = await startFakeOpenAI((r) => ({ content: defaultAnswer(r.role) }));
const config = testConfig('alerting', { OPENAI_BASE_URL: openai.baseURL });
const keys = productKeys(config.QUEUE_PREFIX);
const redis = createRedisConnection(config, 'producer');
const queues = openQueues(redis, config.QUEUE_PREFIX);
let workers: WorkerService;

/** A dashboard process: its own connection and queues, the shared Redis state. */
async function dashboard() {
  const conn = createRedisConnection(config, 'producer');
  await waitFor(() => conn.status === 'ready');
  const q = openQueues(conn, config.QUEUE_PREFIX);
  const app = createApp({ config, logger: silentLogger, redis: conn, keys, queues: q, now: () => new Date() });
  return { app, close: async () => (await closeQueues(q), conn.disconnect()) };
}
const scrape = async (app: Awaited<ReturnType<typeof dashboard>>['app']) => (await request(app).get('/metrics')).text;
const samples = (text: string, name: string) => text.split('\n').filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
const value = (text: string, name: string, labels: Record<string, string>) => {
  const line = samples(text, name).find((l) => Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)));
  return line ? Number(line.split(' ').pop()) : null;
};

beforeAll(async () => {
  await waitFor(() => redis.status === 'ready');
  // What the scheduler publishes: one always-on schedule, so its silence is measured now.
  const entry = scheduleEntrySchema.parse({ id: 'desk', agent: 'quant', tickers: ['AAPL'], every: '1s', market_hours: 'always' });
  await redis.hset(keys.schedules, entry.id, JSON.stringify(entry));
  await redis.set(keys.scheduleStatus, JSON.stringify({ file: 'schedules.yaml', ok: true, loaded_at: new Date(Date.now() - 120_000).toISOString(), schedules: 1 }));
  // NVDA runs the real cycle with the llm engine (a local OpenAI-compatible server): real token costs.
  workers = await startWorkers(config, silentLogger, { sandbox: false, runCycle: (job, ctx) => (job.ticker === 'NVDA' ? runTradingCycle(job, ctx) : testCycle(job, ctx)), concurrency: 2 });
});
afterAll(async () => {
  await workers?.stop();
  await closeQueues(queues);
  redis.disconnect();
  await openai.close();
  await deletePrefix(config.QUEUE_PREFIX);
});

describe('alert rules', () => {
  it('pass promtool check rules and their unit tests', () => {
    const check = execFileSync('promtool', ['check', 'rules', RULES], { encoding: 'utf8' });
    expect(check).toContain('SUCCESS: 7 rules found');
    const unit = execFileSync('promtool', ['test', 'rules', 'tradeloop-rules.test.yml'], { cwd: 'ops/prometheus', encoding: 'utf8' });
    expect(unit).toContain('SUCCESS');
    const names = (parse(readFileSync(RULES, 'utf8')) as { groups: Array<{ rules: Array<{ alert: string }> }> }).groups[0]!.rules.map((r) => r.alert);
    expect(names.sort()).toEqual(['TradeloopCycleFailureRate', 'TradeloopHistoryBacklog', 'TradeloopLlmSpendPerDay', 'TradeloopQueueBacklog', 'TradeloopScheduleSilent', 'TradeloopSimulatedDataFallback', 'TradeloopWorkerOffline']);
  });
});

describe('metrics from Redis', () => {
  let text = '';

  it('record every final status, the last scheduled success and fallbacks, the same on every dashboard', async () => {
    const a = await dashboard();
    const manual = (ticker: string, extra: Record<string, unknown> = {}) =>
      cycleJobDataSchema.parse({ agent: 'quant', ticker, trigger: 'api', requested_at: new Date().toISOString(), profile: BUILTIN_AGENTS.quant, overlap: 'allow', ...extra });
    await enqueueCycle(queues, 'trading-cycle', manual('MSFT'), { redis, keys });
    await enqueueCycle(queues, 'trading-cycle', manual('PERM'), { redis, keys });
    await enqueueCycle(queues, 'trading-cycle', manual('NVDA', { schedule_id: 'desk', trigger: 'manual', profile: agentProfileSchema.parse({ engine: 'llm' }) }), { redis, keys });
    // Asked for an hour ago with a 1 ms start limit: recorded as skipped (stale).
    await enqueueCycle(queues, 'trading-cycle', manual('IBM', { requested_at: new Date(Date.now() - 3_600_000).toISOString(), max_start_delay_ms: 1 }), { redis, keys });
    // A real job scheduler run (trigger schedule): the only kind that counts as the schedule's success.
    const data = cycleJobDataSchema.parse({ agent: 'quant', ticker: 'AAPL', schedule_id: 'desk', trigger: 'schedule', market_hours: 'always', profile: BUILTIN_AGENTS.quant, interval_ms: 60_000 });
    await queues['trading-cycle'].upsertJobScheduler('desk:AAPL', { every: 60_000 }, { name: CYCLE_JOB_NAME, data, opts: cycleJobOptions('trading-cycle') });
    // Yahoo unreachable in `auto`: the cycle decides on simulated data, and that is counted.
    resetMarketDataFallback();
    const dead: typeof fetch = () => Promise.reject(new TypeError('fetch failed: ENOTFOUND'));
    const autoData = cycleJobDataSchema.parse({ agent: 'quant', ticker: 'SPY', trigger: 'api', date: '2026-11-19', profile: BUILTIN_AGENTS.quant });
    const ctx = { config: { ...config, MARKET_DATA: 'auto' as const }, redis, logger: silentLogger, signal: new AbortController().signal, jobId: 'auto-fallback', attempt: 1, reportProgress: async () => {} };
    expect((await runTradingCycle(autoData, ctx, { fetch: dead })).data_source).toBe('simulated');
    resetMarketDataFallback();

    text = await waitFor(async () => {
      const t = await scrape(a.app);
      const count = (status: string) => value(t, 'tradeloop_cycle_duration_seconds_count', { status }) ?? 0;
      return count('completed') >= 3 && count('failed') >= 1 && count('skipped') >= 1 && value(t, 'tradeloop_schedule_last_success_timestamp_seconds', { schedule: 'desk' }) ? t : null;
    }, 20_000);
    await queues['trading-cycle'].removeJobScheduler('desk:AAPL');
    const lastSuccess = value(text, 'tradeloop_schedule_last_success_timestamp_seconds', { schedule: 'desk', ticker: 'AAPL' })!;
    expect(Math.abs(lastSuccess - Date.now() / 1000)).toBeLessThan(60);
    expect(value(text, 'tradeloop_cycle_cost_usd_total', { schedule: 'desk', agent: 'quant' })).toBeGreaterThan(0);
    expect(value(text, 'tradeloop_llm_cost_usd_total', { agent: 'quant', model: 'gpt-4o' })).toBeGreaterThan(0);
    expect(value(text, 'tradeloop_data_fallback_total', { from: 'auto', to: 'simulated' })).toBe(1);
    expect(value(text, 'tradeloop_cycle_duration_seconds_bucket', { status: 'failed', le: '+Inf' })).toBe(1);
    expect(value(text, 'tradeloop_schedule_lag_seconds_count', { queue: 'trading-cycle' })).toBe(1);
    expect(value(text, 'tradeloop_schedule_interval_seconds', { schedule: 'desk', ticker: 'AAPL' })).toBe(1);
    expect(value(text, 'tradeloop_schedule_silence_seconds', { schedule: 'desk', ticker: 'AAPL' })).toBeLessThan(60);
    // Cumulative buckets never decrease.
    const buckets = samples(text, 'tradeloop_cycle_duration_seconds_bucket').filter((l) => l.includes('status="completed"')).map((l) => Number(l.split(' ').pop()));
    expect(buckets).toEqual([...buckets].sort((x, y) => x - y));

    // A second dashboard, and a "restarted" one, report the very same series.
    const cycleLines = (t: string) => t.split('\n').filter((l) => /^tradeloop_(cycle_duration|schedule_lag|cycles_|schedule_last_success)/.test(l)).sort();
    const b = await dashboard();
    const [ta, tb] = await Promise.all([scrape(a.app), scrape(b.app)]);
    expect(cycleLines(tb)).toEqual(cycleLines(ta));
    await a.close();
    const c = await dashboard();
    expect(cycleLines(await scrape(c.app))).toEqual(cycleLines(ta));
    await Promise.all([b.close(), c.close()]);
  }, 40_000);

  it('has a sample for every metric the alert rules and the Grafana dashboard name', () => {
    const used = (file: string) => new Set([...readFileSync(file, 'utf8').matchAll(/\btradeloop_[a-z0-9_]+/g)].map((m) => m[0]));
    const rules = used(RULES);
    const grafana = used(GRAFANA);
    expect(rules.size).toBeGreaterThanOrEqual(8);
    for (const name of new Set([...rules, ...grafana])) {
      expect(samples(text, name).length, `${name} has no sample in /metrics`).toBeGreaterThan(0);
    }
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisConnection, cycleJobDataSchema, productKeys, readCounters, ZERO_USAGE, type CycleResult } from '../../src/core/index.ts';
import { runner } from 'node-pg-migrate';
import { cycleRecord, markAndQueue, migrateHistory, migrationStatus, MIGRATIONS_TABLE, openHistory, outboxDepth, queueHistory, type HistoryStore } from '../../src/history/index.ts';
import { deletePrefix, silentLogger, testConfig, waitFor } from '../support/redis-test-env.ts';
import { closedDatabaseUrl, dropSchema, query, TEST_DATABASE_URL, uniqueSchema } from '../support/pg-test-env.ts';

const config = testConfig('history-store');
const keys = productKeys(config.QUEUE_PREFIX);
const redis = createRedisConnection(config, 'worker');
const schemas: string[] = [];
const stores: HistoryStore[] = [];
const schema = (name: string) => {
  const s = uniqueSchema(name);
  schemas.push(s);
  return s;
};
const open = (s: string, url = TEST_DATABASE_URL) => {
  const store = openHistory({ DATABASE_URL: url, DATABASE_SCHEMA: s }, silentLogger)!;
  stores.push(store);
  return store;
};

const data = cycleJobDataSchema.parse({ agent: 'quant', ticker: 'NVDA', trigger: 'api', profile: { engine: 'llm' }, date: '2026-02-12', requested_at: '2026-02-12T15:00:00.000Z' });
const result: CycleResult = {
  ticker: 'NVDA', date: '2026-02-12', agent: 'quant', decision: 'BUY', rating: 'Overweight', confidence: 0.7, price: 120.5,
  reports: { market: 'm', fundamentals: 'f', news: 'n', sentiment: 's', debate: 'd', trader: 't', risk: 'r', final: 'final' },
  indicators: { rsi: 55 }, data_source: 'yahoo', engine: 'llm', models: ['gpt-4o', 'gpt-4o-mini'],
  usage: { prompt_tokens: 300, completion_tokens: 30, total_tokens: 330, cost_usd: 0.0042, calls: 3, cost_unknown: true, usage_unknown: true },
  started_at: '2026-02-12T15:00:01.000Z', finished_at: '2026-02-12T15:00:09.000Z', dry_run: true, as_of: '2026-02-12T21:00:00.000Z',
  fill: null, fill_note: 'analysis of a past session',
  calls: [
    { role: 'market_analyst', model: 'gpt-4o-mini', prompt_tokens: 100, completion_tokens: 10, cost_usd: 0.0002, latency_ms: 120, attempt: 1 },
    { role: 'portfolio_manager', model: 'gpt-4o', prompt_tokens: 200, completion_tokens: 20, cost_usd: 0.004, cost_unknown: true, latency_ms: 300, attempt: 2 },
    // The server reported no usage for this one: tokens and cost unknown.
    { role: 'trader', model: 'gpt-4o-mini', prompt_tokens: 0, completion_tokens: 0, cost_usd: 0, cost_unknown: true, usage_unknown: true, latency_ms: 90, attempt: 1 },
  ],
  role_reports: { market_analyst: 'up', portfolio_manager: 'buy' },
};
const jobId = '6f1c2a4e-0000-4000-8000-000000000001';
const MIGRATIONS = ['1764633600000_history-tables', '1796256000000_cycle-calls-usage-unknown'];
const record = () => cycleRecord({ id: jobId, queue: 'trading-cycle', data, dueAt: Date.parse('2026-02-12T15:00:00Z'), processedOn: Date.parse('2026-02-12T15:00:01Z'), createdAt: Date.parse('2026-02-12T15:00:00Z'), attempts: 2 }, { status: 'completed', result }, Date.parse('2026-02-12T15:00:10Z'));

beforeAll(() => waitFor(() => redis.status === 'ready'));
afterAll(async () => {
  await Promise.all(stores.map((s) => s.close()));
  redis.disconnect();
  await deletePrefix(config.QUEUE_PREFIX);
  for (const s of schemas) await dropSchema(s);
});

describe('without DATABASE_URL', () => {
  it('there is no history store and nothing is queued for one', () => {
    expect(openHistory({ DATABASE_URL: undefined, DATABASE_SCHEMA: 'tradeloop' }, silentLogger)).toBeNull();
  });
});

describe('history migrations', () => {
  it('apply in their own schema, once, even when several processes start together', async () => {
    const s = schema('migrate');
    const cfg = { DATABASE_URL: TEST_DATABASE_URL, DATABASE_SCHEMA: s };
    expect((await migrationStatus(cfg)).applied).toEqual([]);
    const runs = await Promise.all([migrateHistory(cfg, silentLogger), migrateHistory(cfg, silentLogger), migrateHistory(cfg, silentLogger)]);
    expect(runs.flat()).toEqual(MIGRATIONS);
    const status = await migrationStatus(cfg);
    expect(status.applied.map((m) => m.name)).toEqual(MIGRATIONS);
    expect(status.pending).toEqual([]);
    const tables = await query<{ table_name: string }>(s, 'SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1', [s]);
    expect(tables.map((t) => t.table_name)).toEqual(['cycle_calls', 'cycles', 'replay_reports', 'tradeloop_migrations']);
  }, 60_000);

  it("cycle_calls gains usage_unknown; rows written before it take it from their cycle's result", async () => {
    const s = schema('usage_unknown');
    // An install that applied only the first migration, with one LLM cycle on record.
    await runner({ databaseUrl: TEST_DATABASE_URL, dir: 'src/history/migrations', direction: 'up', count: 1, schema: s, createSchema: true, migrationsTable: MIGRATIONS_TABLE, log: () => undefined });
    await query(s, `INSERT INTO cycles (job_id, queue, ticker, agent, trigger, date, finished_at, status, result) VALUES ($1, 'trading-cycle', 'NVDA', 'quant', 'api', '2026-02-12', now(), 'completed', $2)`, [jobId, JSON.stringify(result)]);
    for (const [k, c] of result.calls!.entries()) {
      await query(s, 'INSERT INTO cycle_calls (job_id, seq, role, model, prompt_tokens, completion_tokens, cost_usd, cost_unknown, latency_ms, attempt) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)', [jobId, k + 1, c.role, c.model, c.prompt_tokens, c.completion_tokens, c.cost_usd, c.cost_unknown === true, c.latency_ms, c.attempt]);
    }
    expect(await migrateHistory({ DATABASE_URL: TEST_DATABASE_URL, DATABASE_SCHEMA: s }, silentLogger)).toEqual(['1796256000000_cycle-calls-usage-unknown']);
    const rows = await query<{ seq: number; usage_unknown: boolean }>(s, 'SELECT seq, usage_unknown FROM cycle_calls ORDER BY seq');
    expect(rows).toEqual([{ seq: 1, usage_unknown: false }, { seq: 2, usage_unknown: false }, { seq: 3, usage_unknown: true }]);
  }, 60_000);
});

describe('history writer', () => {
  it('writes a cycle with its job, decision, reports, calls, fill note and usage; the same record twice is one row', async () => {
    const s = schema('write');
    const store = open(s);
    const writer = store.startWriter({ redis, keys, idleMs: 50 });
    await queueHistory(redis, keys, record());
    await queueHistory(redis, keys, record());
    await waitFor(async () => (await outboxDepth(redis, keys)) === 0, 30_000);
    await writer.stop();
    const rows = await query<Record<string, unknown>>(s, 'SELECT * FROM cycles');
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      job_id: jobId, queue: 'trading-cycle', ticker: 'NVDA', agent: 'quant', trigger: 'api', status: 'completed', attempts: 2,
      decision: 'BUY', rating: 'Overweight', confidence: 0.7, price: 120.5, engine: 'llm', models: ['gpt-4o', 'gpt-4o-mini'], data_source: 'yahoo',
      fill: null, fill_note: 'analysis of a past session', prompt_tokens: 300, completion_tokens: 30, total_tokens: 330, llm_calls: 3, cost_usd: 0.0042, cost_unknown: true,
    });
    expect(rows[0]!.role_reports).toEqual({ market_analyst: 'up', portfolio_manager: 'buy' });
    expect((rows[0]!.reports as { final: string }).final).toBe('final');
    expect((rows[0]!.as_of as Date).toISOString()).toBe('2026-02-12T21:00:00.000Z');
    expect((rows[0]!.profile as { engine: string }).engine).toBe('llm');
    const calls = await query<{ seq: number; role: string; attempt: number; cost_unknown: boolean; usage_unknown: boolean }>(s, 'SELECT seq, role, attempt, cost_unknown, usage_unknown FROM cycle_calls ORDER BY seq');
    expect(calls).toEqual([
      { seq: 1, role: 'market_analyst', attempt: 1, cost_unknown: false, usage_unknown: false },
      { seq: 2, role: 'portfolio_manager', attempt: 2, cost_unknown: true, usage_unknown: false },
      { seq: 3, role: 'trader', attempt: 1, cost_unknown: true, usage_unknown: true },
    ]);
    const read = await store.cycle(jobId);
    expect(read?.view).toMatchObject({ job_id: jobId, status: 'completed', date: '2026-02-12', decision: 'BUY', cost_usd: 0.0042, attempts: 2, source: 'history', duration_ms: 9_000 });
    expect(read?.result).toEqual(result);
  }, 60_000);

  it('the record-once marker and the outbox entry go together: a second outcome for the same job is not queued', async () => {
    const marker = { key: keys.custom('recorded', jobId), value: 'completed', ttlS: 60 };
    expect(await markAndQueue(redis, keys, marker, record())).toBe(true);
    expect(await markAndQueue(redis, keys, marker, cycleRecord({ id: jobId, queue: 'trading-cycle', data, dueAt: Date.now() }, { status: 'failed', error: 'x' }, Date.now()))).toBe(false);
    expect(await outboxDepth(redis, keys)).toBe(1);
    await redis.del(keys.custom('history', 'outbox'));
  });

  it('a record PostgreSQL refuses is set aside on its own; the records around it are written', async () => {
    const s = schema('poison');
    const store = open(s);
    const at = (n: number) => `6f1c2a4e-0000-4000-8000-00000000020${n}`;
    for (const n of [1, 2, 3]) {
      const r = record();
      if (r.kind === 'cycle') {
        r.job.id = at(n);
        if (n === 2) r.job.date = '2026-02-30';
      }
      await queueHistory(redis, keys, r);
    }
    await redis.rpush(keys.custom('history', 'outbox'), 'not json', '{"kind":"cycle"}');
    const writer = store.startWriter({ redis, keys, idleMs: 50 });
    await waitFor(async () => (await outboxDepth(redis, keys)) === 0, 30_000);
    await writer.stop();
    expect((await query<{ job_id: string }>(s, 'SELECT job_id FROM cycles ORDER BY job_id')).map((r) => r.job_id)).toEqual([at(1), at(3)]);
    const dead = await redis.lrange(keys.custom('history', 'dead'), 0, -1);
    expect(dead).toHaveLength(3);
    expect(dead).toContain('not json');
    expect(dead).toContain('{"kind":"cycle"}');
    expect(dead.filter((d) => d.startsWith('{"kind":"cycle","job"')).map((d) => (JSON.parse(d) as { job: { id: string } }).job.id)).toEqual([at(2)]);
    await redis.del(keys.custom('history', 'dead'));
  }, 60_000);

  it('past HISTORY_RETENTION_DAYS, cycles (with their calls) and replay reports are deleted; newer ones stay, and without it nothing goes', async () => {
    const s = schema('retention');
    const store = open(s);
    const day = 86_400_000;
    const cycleAt = (id: string, daysAgo: number) => {
      const r = record();
      if (r.kind !== 'cycle') throw new Error('not a cycle record');
      r.job.id = id;
      r.job.finished_at = new Date(Date.now() - daysAgo * day).toISOString();
      return r;
    };
    const old = '6f1c2a4e-0000-4000-8000-000000000301';
    const recent = '6f1c2a4e-0000-4000-8000-000000000302';
    await queueHistory(redis, keys, cycleAt(old, 100));
    await queueHistory(redis, keys, cycleAt(recent, 1));
    await queueHistory(redis, keys, { kind: 'replay', replay_id: 'rp-old', status: 'completed', finished_at: new Date(Date.now() - 100 * day).toISOString(), report: {} });
    await queueHistory(redis, keys, { kind: 'replay', replay_id: 'rp-running', status: 'running', finished_at: null, report: {} });
    const counts = async () => ({
      cycles: (await query<{ job_id: string }>(s, 'SELECT job_id FROM cycles ORDER BY job_id')).map((r) => r.job_id),
      calls: Number((await query<{ n: string }>(s, 'SELECT count(*) AS n FROM cycle_calls'))[0]!.n),
      replays: (await query<{ replay_id: string }>(s, 'SELECT replay_id FROM replay_reports ORDER BY replay_id')).map((r) => r.replay_id),
    });
    const keeper = store.startWriter({ redis, keys, idleMs: 50 });
    await waitFor(async () => (await outboxDepth(redis, keys)) === 0, 30_000);
    await keeper.drain();
    await keeper.stop();
    expect(await counts()).toEqual({ cycles: [old, recent], calls: 6, replays: ['rp-old', 'rp-running'] });

    const pruner = store.startWriter({ redis, keys, idleMs: 50, retentionDays: 30 });
    await waitFor(async () => (await counts()).cycles.length === 1, 30_000);
    await pruner.stop();
    expect(await counts()).toEqual({ cycles: [recent], calls: 3, replays: ['rp-running'] });
    const pruned = (await readCounters(redis, keys)).find((c) => c.name === 'history_records_pruned_total');
    expect(pruned?.value).toBe(2);
  }, 60_000);

  it('copies the forward returns of scored decisions onto their cycles', async () => {
    const s = schema('returns');
    const store = open(s);
    const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'America/New_York' }).format(new Date());
    const r = cycleRecord({ id: jobId, queue: 'trading-cycle', data: { ...data, date: today }, dueAt: Date.now(), attempts: 1 }, { status: 'completed', result: { ...result, date: today } }, Date.now());
    await queueHistory(redis, keys, r);
    const asked: string[] = [];
    const writer = store.startWriter({
      redis, keys, idleMs: 50, refreshEveryMs: 0,
      forwardReturns: async (decisions) => {
        asked.push(...decisions.map((d) => `${d.agent}|${d.job_id}`));
        return decisions.map((d) => ({ job_id: d.job_id, return_1d: 0.01, return_5d: -0.02 }));
      },
    });
    const scored = await waitFor(async () => {
      const [one] = await store.scoredDecisions('quant');
      return one?.return_5d !== null && one ? one : null;
    }, 30_000);
    await writer.stop();
    expect(asked).toContain(`quant|${jobId}`);
    expect(scored).toMatchObject({ job_id: jobId, date: today, decision: 'BUY', price: 120.5, cycle_ms: 8_000, return_1d: 0.01, return_5d: -0.02, models: ['gpt-4o', 'gpt-4o-mini'] });
  }, 60_000);

  it('PostgreSQL down loses nothing: records wait in the outbox, failures are counted, a writer on a reachable database drains them', async () => {
    const s = schema('down');
    const down = open(s, await closedDatabaseUrl());
    const stuck = down.startWriter({ redis, keys, idleMs: 20, maxBackoffMs: 100 });
    for (let i = 0; i < 3; i++) {
      const r = record();
      if (r.kind === 'cycle') r.job.id = `6f1c2a4e-0000-4000-8000-00000000010${i}`;
      await queueHistory(redis, keys, r);
    }
    await waitFor(() => stuck.failures >= 2, 30_000);
    expect(await outboxDepth(redis, keys)).toBe(3);
    expect(Number(await redis.hget(keys.custom('counters'), 'history_write_failures_total'))).toBeGreaterThanOrEqual(2);
    expect((await down.check(1_000)).ok).toBe(false);
    // The database "comes back" for another process: its writer drains everything, once, though the
    // failing one is still running beside it (a failing writer lets go of the drain lease).
    const up = open(s);
    const writer = up.startWriter({ redis, keys, idleMs: 50 });
    await waitFor(async () => (await outboxDepth(redis, keys)) === 0, 30_000);
    await writer.stop();
    await down.close();
    expect((await query<{ n: string }>(s, 'SELECT count(*) AS n FROM cycles'))[0]!.n).toBe('3');
    expect(await up.check()).toEqual({ ok: true });
  }, 60_000);
});

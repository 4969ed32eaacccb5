import { runCli } from '../support/cli-process.ts';
import { afterAll, describe, expect, it } from 'vitest';
import { BUILTIN_AGENTS, closeQueues, createRedisConnection, cycleJobDataSchema, openQueues, productKeys } from '../../src/core/index.ts';
import { enqueueCycle, startWorkers } from '../../src/tasks/index.ts';
import { runCycle } from '../support/test-cycle.ts';
import { deletePrefix, silentLogger, testConfig, waitFor } from '../support/redis-test-env.ts';
import { dropSchema, query, TEST_DATABASE_URL, uniqueSchema } from '../support/pg-test-env.ts';

const schema = uniqueSchema('backfill');
const config = testConfig('backfill');
afterAll(async () => {
  await deletePrefix(config.QUEUE_PREFIX);
  await dropSchema(schema);
});

function db(args: string[]) {
  return runCli(['db', ...args], { ...process.env, REDIS_URL: config.REDIS_URL, QUEUE_PREFIX: config.QUEUE_PREFIX, DATABASE_URL: TEST_DATABASE_URL, DATABASE_SCHEMA: schema, LOG_LEVEL: 'silent' });
}

describe('tradeloop db backfill', () => {
  it('adds the finished cycles Redis holds (completed, failed) to a history set up later, never replacing a row, and again adds nothing', async () => {
    // An install running without DATABASE_URL: a cycle completes, one fails for good, a job that is not a cycle fails.
    const redis = createRedisConnection(config, 'worker');
    const queues = openQueues(redis, config.QUEUE_PREFIX);
    const keys = productKeys(config.QUEUE_PREFIX);
    const worker = await startWorkers(config, silentLogger, { sandbox: false, runCycle, queues: ['trading-cycle'] });
    const data = (ticker: string) => cycleJobDataSchema.parse({ agent: 'quant', ticker, trigger: 'api', requested_at: new Date().toISOString(), profile: BUILTIN_AGENTS.quant, overlap: 'allow', date: '2026-03-02' });
    const ok = await enqueueCycle(queues, 'trading-cycle', data('NVDA'), { redis, keys });
    const perm = await enqueueCycle(queues, 'trading-cycle', data('PERM'), { redis, keys });
    await queues['trading-cycle'].add('cycle', { not: 'a cycle' }, { jobId: 'e0000000-0000-4000-8000-000000000009', attempts: 1 });
    await waitFor(async () => (await queues['trading-cycle'].getJobCountByTypes('completed', 'failed')) === 3, 30_000);
    await worker.stop();
    await closeQueues(queues);
    redis.disconnect();

    const first = await db(['backfill', '--json']);
    expect(first.err).toBe('');
    expect(first.code).toBe(0);
    expect(JSON.parse(first.out)).toMatchObject({ examined: 3, added: 2, unreadable: 1 });
    const rows = await query<{ job_id: string; status: string; decision: string | null; error: string | null; ticker: string; date: Date; data_source: string | null; attempts: number }>(
      schema,
      'SELECT job_id, status, decision, error, ticker, date, data_source, attempts FROM cycles ORDER BY ticker',
    );
    expect(rows.map((r) => [r.job_id, r.status, r.decision, r.ticker, r.data_source, r.attempts])).toEqual([
      [ok.job_id, 'completed', 'HOLD', 'NVDA', 'test', 1],
      [perm.job_id, 'failed', null, 'PERM', null, 1],
    ]);
    expect(rows[1]!.error).toMatch(/unknown ticker PERM/);

    // A row that is there (a worker's own, say) is never replaced; a second run adds nothing.
    await query(schema, `UPDATE cycles SET decision = 'SELL' WHERE job_id = $1`, [ok.job_id]);
    const again = await db(['backfill']);
    expect(again.code).toBe(0);
    expect(again.out).toMatch(/0 cycles added, 2 already there, 1 jobs not cycles \(of 3 finished jobs Redis holds\)/);
    expect((await query<{ decision: string }>(schema, `SELECT decision FROM cycles WHERE job_id = $1`, [ok.job_id]))[0]!.decision).toBe('SELL');
  }, 90_000);
});

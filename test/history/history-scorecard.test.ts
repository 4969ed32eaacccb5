import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import type { Job } from 'bullmq';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyseTradingCycle, settleTradingCycle } from '../../src/agents/index.ts';
import { MarketCalendar } from '../../src/calendar/index.ts';
import { BUILTIN_AGENTS, closeQueues, createRedisConnection, CYCLE_JOB_NAME, cycleJobDataSchema, cycleJobOptions, openQueues, productKeys, type Usage } from '../../src/core/index.ts';
import { createApp } from '../../src/dashboard/index.ts';
import { openHistory } from '../../src/history/index.ts';
import { createCycleProcessor } from '../../src/tasks/cycle-processor.ts';
import type { CycleFunction, SettleFunction } from '../../src/tasks/cycle-execution.ts';
import { createInProcessRunner } from '../../src/tasks/in-process-runner.ts';
import { createResultFileWriter } from '../../src/tasks/result-files.ts';
import { toJobView } from '../../src/tasks/index.ts';
import { deletePrefix, silentLogger, testConfig, waitFor } from '../support/redis-test-env.ts';
import { dropSchema, TEST_DATABASE_URL, uniqueSchema } from '../support/pg-test-env.ts';

/**
 * The scorecard computed from PostgreSQL agrees with the Redis one for cycles re-run after New York
 * midnight and for decisions whose cost is not known: the worker's job function (built-in analysis and
 * settle step, quant on simulated data) records to the outbox, the writer commits to a real PostgreSQL.
 */
const schema = uniqueSchema('history_scorecard');
const config = testConfig('history-scorecard', { DATABASE_URL: TEST_DATABASE_URL, DATABASE_SCHEMA: schema, RESULTS_DIR: `/tmp/tradeloop-test-results/history-scorecard-${process.pid}` });
const keys = productKeys(config.QUEUE_PREFIX);
const redis = createRedisConnection(config, 'worker');
const queues = openQueues(redis, config.QUEUE_PREFIX);
const history = openHistory(config, silentLogger)!;
const writer = history.startWriter({ redis, keys, idleMs: 50 });
const app = createApp({ config, logger: silentLogger, redis, keys, queues, now: () => new Date(), history });
beforeAll(() => waitFor(() => redis.status === 'ready'));
afterAll(async () => {
  await writer.stop();
  await history.close();
  await closeQueues(queues);
  redis.disconnect();
  await deletePrefix(config.QUEUE_PREFIX);
  await dropSchema(schema);
  rmSync(config.RESULTS_DIR, { recursive: true, force: true });
});

// Friday 2026-11-20, 23:50 in New York; the re-run comes at 00:10 on Saturday.
const ASKED = Date.parse('2026-11-21T04:50:00Z');
const AFTER_MIDNIGHT = Date.parse('2026-11-21T05:10:00Z');
let clock = ASKED + 5_000;
const KNOWN: Usage = { prompt_tokens: 1200, completion_tokens: 300, total_tokens: 1500, cost_usd: 0.012, calls: 4 };
// What the LLM desk reports when one call's cost could not be known: the known part, and the flag.
const UNKNOWN: Usage = { prompt_tokens: 900, completion_tokens: 200, total_tokens: 1100, cost_usd: 0.003, calls: 4, cost_unknown: true };
const usageFor: Record<string, Usage> = { AMD: KNOWN, NVDA: UNKNOWN, MSFT: KNOWN };

const analyse: CycleFunction = async (data, ctx) => {
  const result = await analyseTradingCycle(data, { ...ctx, now: () => new Date(clock) });
  return { ...result, decision: 'BUY', rating: 'Buy', usage: usageFor[data.ticker]! };
};
// AMD's first settle meets a Redis refusing writes: its attempt fails and the re-run comes after midnight.
const settle: SettleFunction = async (analysis, job, ctx) => {
  if (job.ticker === 'AMD' && clock < AFTER_MIDNIGHT) throw new Error("READONLY You can't write against a read only replica.");
  return settleTradingCycle(analysis, job, ctx);
};
const processor = createCycleProcessor(
  {
    config, logger: silentLogger, redis, keys, calendar: new MarketCalendar({ extraClosures: [] }), settle, storageRetryMs: 150, now: () => clock,
    results: createResultFileWriter({ dir: config.RESULTS_DIR, logger: silentLogger }), runner: createInProcessRunner(config, redis, silentLogger, analyse),
  },
  'trading-cycle',
);
const run = (j: Job) => processor(j, undefined, new AbortController().signal);
async function add(ticker: string, extra: Record<string, unknown> = {}): Promise<Job> {
  const data = cycleJobDataSchema.parse({ agent: 'desk', ticker, trigger: 'manual', requested_at: new Date(ASKED).toISOString(), market_hours: 'always', profile: BUILTIN_AGENTS.quant, overlap: 'allow', ...extra });
  return queues['trading-cycle'].add(CYCLE_JOB_NAME, data, { ...cycleJobOptions('trading-cycle'), attempts: 3, jobId: randomUUID() });
}

describe('scorecard from the durable history', () => {
  it('counts a cycle re-run after midnight once, under its day, and reports an unknown cost as unknown, as Redis does', async () => {
    const rerun = await add('AMD');
    const unknown = await add('NVDA');
    const backdated = await add('MSFT', { date: '2026-11-17' });
    await expect(run(rerun)).rejects.toThrow(/READONLY/);
    const unknownOutcome = await run(unknown);
    expect(unknownOutcome.status).toBe('completed');
    expect((await run(backdated)).status).toBe('completed');
    clock = AFTER_MIDNIGHT;
    expect((await run(rerun)).status).toBe('completed');
    await writer.drain();

    const fromHistory = await request(app).get('/api/agents/desk/scorecard');
    const fromRedis = await request(app).get('/api/agents/desk/scorecard?source=redis');
    expect(fromHistory.status).toBe(200);
    expect(fromHistory.body).toMatchObject({ source: 'history', decisions: 2, cost_unknown_decisions: 1, avg_cost_usd: 0.012 });
    expect({ ...fromHistory.body, source: null }).toEqual({ ...fromRedis.body, source: null });

    const listed = (await request(app).get('/api/history?agent=desk')).body.jobs as Array<{ job_id: string; date: string; cost_usd: number; cost_unknown?: boolean }>;
    const byId = new Map(listed.map((j) => [j.job_id, j]));
    expect(byId.get(rerun.id!)).toMatchObject({ date: '2026-11-20', cost_usd: 0.012 });
    expect(byId.get(rerun.id!)!.cost_unknown).toBeUndefined();
    expect(byId.get(unknown.id!)).toMatchObject({ date: '2026-11-20', cost_usd: 0.003, cost_unknown: true });
    // The live job view (of the job as BullMQ completes it, with this outcome) says the same.
    expect(toJobView({ ...unknown, returnvalue: unknownOutcome, finishedOn: Date.now() }, 'completed', 'trading-cycle')).toMatchObject({ cost_usd: 0.003, cost_unknown: true });
  });
});

import { randomUUID } from 'node:crypto';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Job } from 'bullmq';
import { afterAll, describe, expect, it } from 'vitest';
import { analyseTradingCycle, getPortfolio, getScorecard, PAST_DATE_NOTE, settleTradingCycle } from '../../src/agents/index.ts';
import { MarketCalendar } from '../../src/calendar/index.ts';
import { BUILTIN_AGENTS, closeQueues, createRedisConnection, CYCLE_JOB_NAME, cycleJobDataSchema, cycleJobOptions, openQueues, productKeys, type CycleResult, type JobOutcome } from '../../src/core/index.ts';
import { createCycleProcessor } from '../../src/tasks/cycle-processor.ts';
import type { CycleFunction, SettleFunction } from '../../src/tasks/cycle-execution.ts';
import { createInProcessRunner } from '../../src/tasks/in-process-runner.ts';
import { createResultFileWriter } from '../../src/tasks/result-files.ts';
import { deletePrefix, silentLogger, testConfig } from '../support/redis-test-env.ts';

/**
 * A cycle asked for just before midnight in New York whose re-run (retry, redelivery, stalled recovery)
 * comes after it: the worker's job function called directly with a clock that crosses midnight, the
 * built-in analysis (quant, simulated data) and settle step, real Redis and real jobs.
 */
const config = testConfig('midnight', { RESULTS_DIR: `/tmp/tradeloop-test-results/midnight-${process.pid}` });
const redis = createRedisConnection(config, 'worker');
const queues = openQueues(redis, config.QUEUE_PREFIX);
const keys = productKeys(config.QUEUE_PREFIX);
afterAll(async () => {
  await closeQueues(queues);
  redis.disconnect();
  await deletePrefix(config.QUEUE_PREFIX);
  rmSync(config.RESULTS_DIR, { recursive: true, force: true });
});

// Friday 2026-11-20, 23:50 in New York (04:50Z on the 21st); the re-run comes at 00:10 on Saturday.
const ASKED = Date.parse('2026-11-21T04:50:00Z');
const AFTER_MIDNIGHT = Date.parse('2026-11-21T05:10:00Z');

function harness(opts: { failAnalysisOnce?: boolean; failSettleBeforeMidnight?: boolean }) {
  let clock = ASKED + 5_000;
  let analyses = 0;
  // The engine's decision is forced to BUY so there is a fill to keep; everything else is the real analysis.
  const analyse: CycleFunction = async (data, ctx) => {
    analyses++;
    if (opts.failAnalysisOnce && analyses === 1) throw new Error('transient: data source reset the connection');
    const result = await analyseTradingCycle(data, { ...ctx, now: () => new Date(clock) });
    return { ...result, decision: 'BUY', rating: 'Buy' };
  };
  const settle: SettleFunction = async (analysis, job, ctx) => {
    // Redis refusing writes for longer than the attempt's storage retries: the attempt fails.
    if (opts.failSettleBeforeMidnight && clock < AFTER_MIDNIGHT) throw new Error('READONLY You can\'t write against a read only replica.');
    return settleTradingCycle(analysis, job, ctx);
  };
  const results = createResultFileWriter({ dir: config.RESULTS_DIR, logger: silentLogger });
  const processor = createCycleProcessor(
    { config, logger: silentLogger, redis, keys, results, calendar: new MarketCalendar({ extraClosures: [] }), runner: createInProcessRunner(config, redis, silentLogger, analyse), settle, storageRetryMs: 150, now: () => clock },
    'trading-cycle',
  );
  return {
    run: (j: Job) => processor(j, undefined, new AbortController().signal) as Promise<JobOutcome>,
    afterMidnight: () => void (clock = AFTER_MIDNIGHT),
    analyses: () => analyses,
    flush: () => results.flush(),
  };
}

async function askedBeforeMidnight(agent: string, ticker: string): Promise<Job> {
  // Asked for with no date (a schedule's manual trigger): the cycle is for the day it was asked for.
  const data = cycleJobDataSchema.parse({ agent, ticker, trigger: 'manual', requested_at: new Date(ASKED).toISOString(), market_hours: 'always', profile: BUILTIN_AGENTS.quant, overlap: 'allow' });
  return queues['trading-cycle'].add(CYCLE_JOB_NAME, data, { ...cycleJobOptions('trading-cycle'), attempts: 3, jobId: randomUUID() });
}

const resultOf = (o: JobOutcome) => (o as { status: 'completed'; result: CycleResult }).result;
const entries = async (agent: string) => Object.values(await redis.hgetall(`${config.QUEUE_PREFIX}:tl:scorecard:${agent}`)).map((r) => JSON.parse(r) as { job_id: string; date: string });

describe('a cycle re-run after midnight in New York', () => {
  it('a redelivery of a settled cycle returns the same fill; the ledger and scorecard hold it once, under its own day', async () => {
    const h = harness({});
    const j = await askedBeforeMidnight('late-desk', 'AMD');
    const first = resultOf(await h.run(j));
    expect(first).toMatchObject({ date: '2026-11-20', decision: 'BUY' });
    expect(first.fill).toMatchObject({ side: 'BUY' });
    h.afterMidnight();
    const again = resultOf(await h.run(j));
    expect(again.fill).toEqual(first.fill);
    expect(again.fill_note).toBeUndefined();
    expect(h.analyses()).toBe(1);
    const portfolio = await getPortfolio(redis, config.QUEUE_PREFIX, 'late-desk');
    expect(portfolio!.trades.map((t) => t.job_id)).toEqual([j.id]);
    expect(await entries('late-desk')).toEqual([expect.objectContaining({ job_id: j.id, date: '2026-11-20' })]);
  });

  it('an analysis stored before midnight and settled after it is filled and scored once, under its own day', async () => {
    const h = harness({ failSettleBeforeMidnight: true });
    const j = await askedBeforeMidnight('stored-desk', 'NVDA');
    await expect(h.run(j)).rejects.toThrow(/READONLY/);
    h.afterMidnight();
    const done = resultOf(await h.run(j));
    expect(h.analyses()).toBe(1);
    expect(done).toMatchObject({ date: '2026-11-20', decision: 'BUY' });
    expect(done.fill).toMatchObject({ side: 'BUY' });
    expect((await getPortfolio(redis, config.QUEUE_PREFIX, 'stored-desk'))!.trades).toHaveLength(1);
    expect(await entries('stored-desk')).toEqual([expect.objectContaining({ job_id: j.id, date: '2026-11-20' })]);
    expect((await getScorecard(redis, config.QUEUE_PREFIX, 'stored-desk'))!.decisions).toBe(1);
    await h.flush();
    expect(readdirSync(join(config.RESULTS_DIR, 'NVDA'))).toEqual(['2026-11-20']);
  });

  it('an analysis first tried before midnight and done after it is of the day asked for, never the new day', async () => {
    const h = harness({ failAnalysisOnce: true });
    const j = await askedBeforeMidnight('retry-desk', 'MSFT');
    await expect(h.run(j)).rejects.toThrow(/transient/);
    h.afterMidnight();
    const done = resultOf(await h.run(j));
    expect(done.date).toBe('2026-11-20');
    // Analysed after that session's day ended: a past session's analysis, so the live ledger is not touched.
    expect(done.fill).toBeNull();
    expect(done.fill_note).toContain(PAST_DATE_NOTE);
    expect(await getPortfolio(redis, config.QUEUE_PREFIX, 'retry-desk')).toBeNull();
    await h.flush();
    expect(readdirSync(join(config.RESULTS_DIR, 'MSFT'))).toEqual(['2026-11-20']);
  });
});

import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Job } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyseTradingCycle, getPortfolio, settleTradingCycle } from '../../src/agents/index.ts';
import { MarketCalendar } from '../../src/calendar/index.ts';
import {
  BUILTIN_AGENTS,
  closeQueues,
  createRedisConnection,
  CYCLE_JOB_NAME,
  cycleJobDataSchema,
  cycleJobOptions,
  loadConfig,
  openQueues,
  productKeys,
  type Config,
} from '../../src/core/index.ts';
import { createCycleProcessor } from '../../src/tasks/cycle-processor.ts';
import type { CycleFunction } from '../../src/tasks/cycle-execution.ts';
import { createInProcessRunner } from '../../src/tasks/in-process-runner.ts';
import { createResultFileWriter } from '../../src/tasks/result-files.ts';
import { nyDate } from '../../src/tasks/index.ts';
import { silentLogger, uniquePrefix, waitFor } from '../support/redis-test-env.ts';

/**
 * One analysis per job id, against storage that really fails: a private redis-server that refuses
 * writes (maxmemory reached under noeviction, the OOM error) and a results folder that cannot be
 * created. The built-in analysis and settle steps run for real (quant engine, simulated data).
 */
const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

let server: ChildProcess;
let port: number;
let admin: Redis;
let config: Config;
const dir = mkdtempSync(join(tmpdir(), 'tl-one-analysis-'));

beforeAll(async () => {
  port = await freePort();
  server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction', '--dir', dir], { stdio: 'ignore' });
  await waitFor(
    () =>
      new Promise<boolean>((resolve) => {
        const probe = new Redis(port, '127.0.0.1', { maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: true });
        probe.on('error', () => {});
        void probe.connect().then(() => probe.ping()).then((r) => resolve(r === 'PONG'), () => resolve(false)).finally(() => probe.disconnect());
      }),
    15_000,
  );
  admin = new Redis(port, '127.0.0.1', { maxRetriesPerRequest: 1 });
  config = loadConfig({ REDIS_URL: `redis://127.0.0.1:${port}`, QUEUE_PREFIX: uniquePrefix('one-analysis'), LOG_LEVEL: 'silent', MARKET_DATA: 'simulated', RESULTS_DIR: join(dir, 'results') });
});
afterAll(async () => {
  admin.disconnect();
  server.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

/** Makes the Redis refuse writes (OOM) for `ms`, then lets them through again. */
async function refuseWritesFor(ms: number): Promise<void> {
  await admin.config('SET', 'maxmemory', '1');
  setTimeout(() => void admin.config('SET', 'maxmemory', '0'), ms);
}

function harness(opts: { storageRetryMs?: number; onAnalysed?: () => Promise<void> } = {}) {
  const redis = createRedisConnection(config, 'worker');
  const queues = openQueues(redis, config.QUEUE_PREFIX);
  let analyses = 0;
  const counted: CycleFunction = async (data, ctx) => {
    const result = await analyseTradingCycle(data, ctx);
    analyses++;
    await opts.onAnalysed?.();
    return result;
  };
  const results = createResultFileWriter({ dir: config.RESULTS_DIR, logger: silentLogger });
  const processor = createCycleProcessor(
    {
      config,
      logger: silentLogger,
      results,
      redis,
      keys: productKeys(config.QUEUE_PREFIX),
      calendar: new MarketCalendar({ extraClosures: [] }),
      runner: createInProcessRunner(config, redis, silentLogger, counted),
      settle: settleTradingCycle,
      storageRetryMs: opts.storageRetryMs ?? 10_000,
    },
    'trading-cycle',
  );
  const add = async (ticker: string, agent: string): Promise<Job> => {
    const data = cycleJobDataSchema.parse({ agent, ticker, trigger: 'manual', requested_at: new Date().toISOString(), date: nyDate(Date.now()), profile: BUILTIN_AGENTS.quant, overlap: 'allow' });
    return queues['trading-cycle'].add(CYCLE_JOB_NAME, data, { ...cycleJobOptions('trading-cycle'), jobId: randomUUID() });
  };
  return {
    redis,
    add,
    run: (j: Job) => processor(j, undefined, new AbortController().signal),
    analyses: () => analyses,
    /** Result files are written after the job: waits until the queued ones are on disk. */
    flushFiles: () => results.flush(),
    close: async () => {
      await closeQueues(queues);
      redis.disconnect();
    },
  };
}

/** The decision every record of the job carries: returned result, result file, scorecard entry, ledger. */
async function recordsOf(redis: Redis, job: Job, agent: string, returned: { decision: string }) {
  const data = job.data as { ticker: string; date: string };
  const file = JSON.parse(readFileSync(join(config.RESULTS_DIR, data.ticker, data.date, `${job.id}.json`), 'utf8')) as { decision: string; fill: unknown };
  const entry = JSON.parse((await redis.hget(`${config.QUEUE_PREFIX}:tl:scorecard:${agent}`, String(job.id))) ?? 'null') as { decision: string } | null;
  const stored = JSON.parse((await redis.get(productKeys(config.QUEUE_PREFIX).custom('analysis', String(job.id)))) ?? 'null') as { decision: string } | null;
  const portfolio = await getPortfolio(redis, config.QUEUE_PREFIX, agent);
  return { returned: returned.decision, file: file.decision, scorecard: entry?.decision, stored: stored?.decision, trades: portfolio?.trades.filter((t) => t.job_id === job.id) ?? [] };
}

describe('one analysis per job id (real Redis refusing writes, a results folder that cannot be made)', () => {
  it('a Redis refusing writes right after the analysis: the storage steps are retried alone, the analysis runs once', async () => {
    const h = harness({ onAnalysed: () => refuseWritesFor(1_500) });
    try {
      const job = await h.add('NVDA', 'oom-desk');
      const outcome = await h.run(job);
      expect(outcome.status).toBe('completed');
      expect(h.analyses()).toBe(1);
      const result = (outcome as { result: { decision: string; fill: { side: string } | null } }).result;
      await h.flushFiles();
      const r = await recordsOf(h.redis, job, 'oom-desk', result);
      expect([r.file, r.scorecard, r.stored]).toEqual([r.returned, r.returned, r.returned]);
      expect(r.trades.length).toBe(result.fill ? 1 : 0);
      if (result.fill) expect(r.trades[0]!.side).toBe(result.fill.side);
    } finally {
      await h.close();
    }
  });

  it('a results folder that cannot be created for a while: the file is retried alone, the analysis runs once', async () => {
    const h = harness();
    try {
      const job = await h.add('AMD', 'file-desk');
      // A plain file where the ticker's folder should be: mkdir fails (ENOTDIR / EEXIST) until it goes.
      mkdirSync(config.RESULTS_DIR, { recursive: true });
      const blocker = join(config.RESULTS_DIR, 'AMD');
      writeFileSync(blocker, 'not a folder');
      setTimeout(() => rmSync(blocker, { force: true }), 1_500);
      const outcome = await h.run(job);
      expect(outcome.status).toBe('completed');
      expect(h.analyses()).toBe(1);
      await h.flushFiles();
      const r = await recordsOf(h.redis, job, 'file-desk', (outcome as { result: { decision: string } }).result);
      expect([r.file, r.scorecard, r.stored]).toEqual([r.returned, r.returned, r.returned]);
    } finally {
      await h.close();
    }
  });

  it('a fault outlasting the retry budget fails the attempt; the next attempt reuses the analysis and fills once', async () => {
    const h = harness({ storageRetryMs: 300, onAnalysed: () => refuseWritesFor(2_000) });
    try {
      const job = await h.add('MSFT', 'budget-desk');
      await expect(h.run(job)).rejects.toThrow(/OOM/);
      expect(h.analyses()).toBe(1);
      await new Promise((r) => setTimeout(r, 2_200));
      const outcome = await h.run(job);
      expect(outcome.status).toBe('completed');
      expect(h.analyses()).toBe(1);
      // A third run (a stalled recovery, say) adds nothing either.
      expect((await h.run(job)).status).toBe('completed');
      expect(h.analyses()).toBe(1);
      const result = (outcome as { result: { decision: string; fill: unknown } }).result;
      await h.flushFiles();
      const r = await recordsOf(h.redis, job, 'budget-desk', result);
      expect([r.file, r.scorecard, r.stored]).toEqual([r.returned, r.returned, r.returned]);
      expect(r.trades.length).toBe(result.fill ? 1 : 0);
      expect(existsSync(join(config.RESULTS_DIR, 'MSFT'))).toBe(true);
    } finally {
      await h.close();
    }
  });
});

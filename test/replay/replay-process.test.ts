import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openQueues, closeQueues, productKeys, DEFAULT_QUEUE } from '../../src/core/index.ts';
import { deletePrefix, testConfig, TEST_REDIS_URL, waitFor } from '../support/redis-test-env.ts';
import { spawnWorker, type WorkerProcess } from '../support/worker-process.ts';

const dir = mkdtempSync(join(tmpdir(), 'tl-replay-'));
const file = join(dir, 'schedules.yaml');
writeFileSync(
  file,
  [
    'agents:',
    '  quant-b: { engine: quant, portfolio: { starting_cash: 20000, target_percent: 0.25, commission_per_trade: 0, slippage_bps: 0 } }',
    'schedules:',
    '  - { id: hourly, agent: quant, ticker: SPY, every: 1h, market_hours: regular, enabled: false }',
    '',
  ].join('\n'),
);
const config = testConfig('replay-proc', { SCHEDULES_FILE: file });
const env = { ...process.env, REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: config.QUEUE_PREFIX, SCHEDULES_FILE: file, LOG_LEVEL: 'silent', MARKET_DATA: 'simulated', REPLAY_LEASE_MS: '2000' };
const redis = new Redis(TEST_REDIS_URL);
const keys = productKeys(config.QUEUE_PREFIX);
const queues = openQueues(redis, config.QUEUE_PREFIX);
let worker: WorkerProcess;
const schedulers: ChildProcess[] = [];

function cli(args: string[]) {
  const r = spawnSync(process.execPath, ['bin/tradeloop.mjs', ...args], { env, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function startSchedulerProcess(): ChildProcess {
  const proc = spawn(process.execPath, ['bin/scheduler.mjs'], { env, stdio: 'ignore' });
  schedulers.push(proc);
  return proc;
}

const state = async (id: string) => redis.hgetall(keys.custom('replay', id, 'state'));

beforeAll(async () => {
  worker = await spawnWorker({ REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: config.QUEUE_PREFIX, WORKER_HEARTBEAT_MS: '500', MARKET_DATA: 'simulated', CYCLE_MODULE: '' });
  startSchedulerProcess();
  await waitFor(async () => (await redis.hget(keys.agents, 'quant-b')) !== null, 20_000);
}, 40_000);

afterAll(async () => {
  for (const p of schedulers) if (p.exitCode === null && p.signalCode === null) p.kill('SIGTERM');
  await worker?.stop('SIGTERM');
  await closeQueues(queues);
  redis.disconnect();
  await deletePrefix(config.QUEUE_PREFIX);
});

describe('replays across processes', () => {
  it('the CLI refuses bad input naming the option', () => {
    const r = cli(['replay', 'start', '--profiles', 'quant', '--tickers', 'SPY', '--from', '2025-06-30', '--to', '2025-06-01']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('--from: 2025-06-30 is after to');
    expect(cli(['replay', 'start', '--profiles', 'ghost', '--tickers', 'SPY', '--from', '2025-06-02', '--to', '2025-06-06']).err).toContain('--profiles: unknown agent profile "ghost"');
    expect(cli(['replay', 'start', '--tickers', 'SPY']).code).toBe(2);
  }, 90_000);

  it('start --wait shows progress and prints the report and the comparison table', () => {
    const r = cli(['replay', 'start', '--profiles', 'quant,quant-b', '--tickers', 'SPY', '--from', '2025-11-24', '--to', '2025-12-05', '--wait']);
    expect(r.code).toBe(0);
    // Nine sessions (Thanksgiving closed) for two profiles.
    expect(r.out).toMatch(/ done {2}18\/18 /);
    expect(r.out).toMatch(/^quant-b\s+9\/9\s/m);
    expect(r.out).toContain('quant vs quant-b: agreement 100.00% over 9 decisions');
    expect(r.out).toMatch(/quant \\ quant-b\s+BUY\s+SELL\s+HOLD/);
    expect(r.err).toContain('18/18 cycles');
    const list = JSON.parse(cli(['replay', 'list', '--json']).out);
    expect(list[0]).toMatchObject({ status: 'done', profiles: ['quant', 'quant-b'] });
    const show = JSON.parse(cli(['replay', 'show', list[0].replay_id, '--json']).out);
    expect(show.report.profiles[1].starting_cash).toBe(20000);
  }, 120_000);

  it('resumes where it was after its coordinator process is killed', async () => {
    const start = cli(['replay', 'start', '--profiles', 'quant', '--tickers', 'SPY,QQQ', '--from', '2025-01-02', '--to', '2025-02-28', '--json']);
    expect(start.code).toBe(0);
    const { replay_id: id, progress } = JSON.parse(start.out);
    expect(progress.total).toBe(2 * 39); // Jan 2025: 20 sessions (New Year, MLK Day, Jan 9 closed); Feb: 19 (Presidents' Day)
    await waitFor(async () => Number((await state(id)).done) >= 10, 90_000, 20);
    // Kill every process that hosts coordinators, without a chance to clean up.
    for (const p of schedulers) p.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 500));
    const frozen = Number((await state(id)).done);
    await new Promise((r) => setTimeout(r, 1_500));
    expect(Number((await state(id)).done)).toBe(frozen);
    expect((await state(id)).status).toBe('running');
    expect(frozen).toBeLessThan(progress.total);

    startSchedulerProcess();
    await waitFor(async () => (await state(id)).status === 'done', 150_000, 100);
    const cycles = await redis.hlen(keys.custom('replay', id, 'cycles'));
    expect(cycles).toBe(progress.total);
    expect(Number((await state(id)).done)).toBe(progress.total);
    // Every task ran as one job, once.
    const jobs = await Promise.all(Array.from({ length: progress.total }, (_, i) => queues[DEFAULT_QUEUE].getJob(`replay-${id}-${i}`)));
    expect(jobs.every((j) => j && j.finishedOn && j.attemptsMade === 1)).toBe(true);
    const shown = JSON.parse(cli(['replay', 'show', id, '--json']).out);
    expect(shown.report.profiles[0].equity_curve).toHaveLength(39);
    expect(shown.progress.failed).toBe(0);
  }, 280_000);
});

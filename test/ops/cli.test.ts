import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startScheduler, type SchedulerService } from '../../src/scheduler/index.ts';
import { cliInstall } from '../support/cli-process.ts';
import { deletePrefix, silentLogger, TEST_REDIS_URL, waitFor } from '../support/redis-test-env.ts';
import { spawnWorker, type WorkerProcess } from '../support/worker-process.ts';

const { dir, file, config, env, cli } = cliInstall('cli', ['SPY', 'QQQ']);
let scheduler: SchedulerService;
let worker: WorkerProcess;

beforeAll(async () => {
  scheduler = await startScheduler(config, silentLogger, { watch: false });
  worker = await spawnWorker({ REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: config.QUEUE_PREFIX, WORKER_HEARTBEAT_MS: '500', MARKET_DATA: 'simulated', CYCLE_MODULE: '' });
}, 30_000);
afterAll(async () => {
  await worker?.stop('SIGTERM');
  await scheduler?.stop();
  await deletePrefix(config.QUEUE_PREFIX);
});

describe('tradeloop CLI (spawned, real Redis and worker)', () => {
  it('validate: 0 for a good file, 1 with located problems for a bad one, --json for scripts', () => {
    expect(cli(['validate', file]).code).toBe(0);
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'schedules:\n  - { id: x, agent: quant, ticker: SPY, every: often }\n');
    const r = cli(['validate', bad]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/bad\.yaml:2:\d+ schedules\[0\]\.every: invalid duration "often"/);
    expect(JSON.parse(cli(['validate', bad, '--json']).out).ok).toBe(false);
  });

  it('schedules and queues print tables and JSON', () => {
    const r = cli(['schedules']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/desk\s+quant\s+SPY,QQQ\s+1h\s+regular\s+active/);
    expect(r.out).toMatch(/ET/);
    const json = JSON.parse(cli(['schedules', '--json']).out);
    expect(json[0]).toMatchObject({ id: 'desk', tickers: ['SPY', 'QQQ'] });
    const q = JSON.parse(cli(['queues', '--json']).out);
    expect(q.map((x: { name: string }) => x.name)).toEqual(['trading-cycle', 'trading-cycle-priority']);
  });

  it('trigger --wait prints the decision; test sends a heartbeat cycle; jobs lists them', async () => {
    await waitFor(() => cli(['inspect', 'ping']).code === 0, 10_000);
    const t = cli(['trigger', 'desk', '--ticker', 'QQQ', '--wait', '--json']);
    expect(t.code).toBe(0);
    const [res] = JSON.parse(t.out);
    expect(res.status).toBe('completed');
    expect(['BUY', 'SELL', 'HOLD']).toContain(res.decision);
    const h = cli(['test']);
    expect(h.code).toBe(0);
    expect(h.out).toMatch(/^ok: .+ → (BUY|SELL|HOLD) in \d+ ms/);
    const jobs = JSON.parse(cli(['jobs', '--limit', '5', '--json']).out);
    expect(jobs.length).toBeGreaterThanOrEqual(2);
    expect(jobs.some((j: { schedule_id: string }) => j.schedule_id === 'desk')).toBe(true);
  }, 60_000);

  it('trigger --date: a past session is analysed as of its close without a live fill; bad dates are usage errors', () => {
    const past = cli(['trigger', 'desk', '--ticker', 'SPY', '--date', '2026-11-20', '--wait', '--json']);
    expect(past.code).toBe(0);
    const [res] = JSON.parse(past.out);
    expect(res.status).toBe('completed');
    const result = JSON.parse(cli(['jobs', '--limit', '20', '--json']).out).find((j: { job_id: string }) => j.job_id === res.job_id);
    expect(result.date).toBe('2026-11-20');
    for (const [date, why] of [['2025-02-30', /not a real calendar date/], ['2099-01-02', /in the future/]] as const) {
      const bad = cli(['trigger', 'desk', '--ticker', 'SPY', '--date', date]);
      expect(bad.code).toBe(2);
      expect(bad.err).toMatch(why);
    }
  }, 60_000);

  it('inspect shows the worker; exit codes are trustworthy', () => {
    const stats = JSON.parse(cli(['inspect', 'stats', '--json']).out);
    expect(stats.some((w: { pid: number; online: boolean }) => w.pid === worker.pid && w.online)).toBe(true);
    expect(cli(['inspect', 'registered']).out).toContain('trading-cycle-priority');
    expect(cli(['inspect', 'nonsense']).code).toBe(2);
    expect(cli(['trigger', 'nobody']).code).toBe(2);
    expect(cli(['trigger', 'quant']).code).toBe(2); // an agent needs --ticker
    expect(cli(['cancel', 'no-such-job']).code).toBe(1);
    expect(cli(['jobs', '--status', 'weird']).code).toBe(2);
    expect(cli(['frobnicate']).code).toBe(2);
    expect(cli(['queues'], { REDIS_URL: 'redis://127.0.0.1:1' }).code).toBe(3);
    expect(cli(['schedules', '--help']).out).toMatch(/usage: tradeloop schedules/i);
  }, 90_000);
});

describe('PM2 ecosystem', () => {
  it('declares scheduler, N workers and dashboard with a kill timeout above the shutdown deadline', () => {
    const require = createRequire(import.meta.url);
    process.env.WORKER_INSTANCES = '3';
    const eco = require('../../ecosystem.config.cjs') as { apps: Array<{ name: string; script: string; instances: number; kill_timeout: number; max_memory_restart: string; out_file: string }> };
    expect(eco.apps.map((a) => a.name)).toEqual(['tradeloop-scheduler', 'tradeloop-worker', 'tradeloop-dashboard']);
    const w = eco.apps[1]!;
    expect(w.instances).toBe(3);
    expect(w.kill_timeout).toBeGreaterThan(30_000);
    for (const app of eco.apps) {
      expect(app.script).toMatch(/^bin\/.+\.mjs$/);
      expect(app.out_file).toMatch(/^logs\//);
      expect(app.max_memory_restart).toBeTruthy();
    }
  });

  it('tradeloop start/status/stop run the three apps under PM2', () => {
    const pm2Home = mkdtempSync(join(tmpdir(), 'tl-pm2-'));
    const pmEnv = { PM2_HOME: pm2Home, WORKER_INSTANCES: '1', PORT: '0', LOG_LEVEL: 'info' };
    try {
      expect(cli(['start'], pmEnv).code).toBe(0);
      let status = { code: 1 as number | null, out: '' };
      for (let i = 0; i < 40 && status.code !== 0; i++) {
        spawnSync('sleep', ['0.5']);
        status = cli(['status', '--json'], pmEnv);
      }
      expect(status.code).toBe(0);
      const apps = JSON.parse(status.out) as Array<{ name: string; status: string }>;
      expect(apps.map((a) => a.name).sort()).toEqual(['tradeloop-dashboard', 'tradeloop-scheduler', 'tradeloop-worker']);
      expect(cli(['stop'], pmEnv).code).toBe(0);
      expect(cli(['status'], pmEnv).code).toBe(1);
    } finally {
      spawnSync(process.execPath, ['node_modules/pm2/bin/pm2', 'kill'], { env: { ...env, PM2_HOME: pm2Home } });
    }
  }, 60_000);
});

import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startScheduler, type SchedulerService } from '../../src/scheduler/index.ts';
import { cliInstall } from '../support/cli-process.ts';
import { deletePrefix, silentLogger, TEST_REDIS_URL, waitFor } from '../support/redis-test-env.ts';
import { spawnWorker, type WorkerProcess } from '../support/worker-process.ts';

/** The operator's commands, spawned as the real CLI against a real scheduler, sandboxed worker and Redis. */
const { config, env, cli } = cliInstall('cli-ops', ['SPY', 'PERM']);
let scheduler: SchedulerService;
let worker: WorkerProcess;

/** Starts a long-running CLI command and collects its output until it exits. */
function cliAsync(args: string[]) {
  const proc = spawn(process.execPath, ['bin/tradeloop.mjs', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const out = { stdout: '', stderr: '' };
  proc.stdout.on('data', (c: Buffer) => (out.stdout += c.toString()));
  proc.stderr.on('data', (c: Buffer) => (out.stderr += c.toString()));
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  return { proc, out, exited };
}

beforeAll(async () => {
  scheduler = await startScheduler(config, silentLogger, { watch: false });
  worker = await spawnWorker({ REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: config.QUEUE_PREFIX, WORKER_HEARTBEAT_MS: '500', MARKET_DATA: 'simulated' });
}, 30_000);
afterAll(async () => {
  await worker?.stop('SIGTERM');
  await scheduler?.stop();
  await deletePrefix(config.QUEUE_PREFIX);
});

describe('job, result, retry', () => {
  it('job shows attempts with the stack from the sandbox child; result prints the decision; retry refuses a completed job', () => {
    const [perm] = JSON.parse(cli(['trigger', 'desk', '--ticker', 'PERM', '--wait', '--json']).out);
    expect(perm.status).toBe('failed');
    const shown = cli(['job', perm.job_id]);
    expect(shown.code).toBe(0);
    expect(shown.out).toMatch(/status\s+failed/);
    expect(shown.out).toMatch(/#1 failed/);
    expect(shown.out).toMatch(/PermanentCycleError: unknown ticker PERM/);
    expect(shown.out).toMatch(/at .*test-cycle\.ts:\d+/);
    expect(shown.out).toMatch(/log:\n.*attempt 1 started/);
    const json = JSON.parse(cli(['job', perm.job_id, '--json']).out);
    expect(json.attempts_log[0].stack).toMatch(/test-cycle\.ts/);
    expect(json.logs.some((l: string) => /progress 10% fetching data/.test(l))).toBe(true);
    expect(cli(['result', perm.job_id]).code).toBe(1);

    const retried = cli(['retry', perm.job_id, '--json']);
    expect(retried.code).toBe(0);
    expect(JSON.parse(retried.out)).toMatchObject({ job_id: perm.job_id, outcome: 'retried' });

    const [ok] = JSON.parse(cli(['trigger', 'desk', '--ticker', 'SPY', '--wait', '--json']).out);
    expect(ok.status).toBe('completed');
    const result = cli(['result', ok.job_id]);
    expect(result.code).toBe(0);
    expect(result.out).toMatch(/^SPY \d{4}-\d\d-\d\d · quant: HOLD/);
    expect(JSON.parse(cli(['result', ok.job_id, '--json']).out).decision).toBe('HOLD');
    const refused = cli(['retry', ok.job_id]);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/only a failed or cancelled job can be retried/);
    expect(cli(['job', 'no-such-job']).code).toBe(1);
    expect(cli(['retry']).code).toBe(2);
  }, 60_000);
});

describe('schedules show, pause, resume', () => {
  it('show prints next runs and counts; a pause note round-trips through the CLI', () => {
    const show = cli(['schedules', 'show', 'desk', '--next', '3']);
    expect(show.code).toBe(0);
    expect(show.out).toMatch(/next runs \(New York time\):\n\s+SPY\s+.+ET \| .+ET \| .+ET/);
    expect(show.out).toMatch(/counts today:\s+ran \d+/);
    const json = JSON.parse(cli(['schedules', 'show', 'desk', '--next', '3', '--json']).out);
    expect(json.next_runs[0].runs).toHaveLength(3);
    // The manual runs above were recorded for this schedule.
    expect(json.counts.all_time.ran).toBeGreaterThanOrEqual(1);
    expect(json.counts.all_time.failed).toBeGreaterThanOrEqual(1);
    expect(json.recent_runs.length).toBeGreaterThanOrEqual(2);

    const paused = cli(['schedules', 'pause', 'desk', '--note', 'halted pending review']);
    expect(paused.code).toBe(0);
    expect(paused.out).toMatch(/schedule desk paused by .+ \(cli\): halted pending review/);
    const after = JSON.parse(cli(['schedules', 'show', 'desk', '--json']).out);
    expect(after.paused).toBe(true);
    expect(after.pause).toMatchObject({ note: 'halted pending review' });
    expect(after.pause.by).toMatch(/\(cli\)$/);
    expect(cli(['schedules']).out).toMatch(/desk .+paused by/);
    expect(cli(['schedules', 'resume', 'desk']).code).toBe(0);
    expect(JSON.parse(cli(['schedules', 'show', 'desk', '--json']).out).pause).toBeNull();
    expect(cli(['schedules', 'show', 'ghost']).code).toBe(1);
    expect(cli(['schedules', 'frobnicate', 'desk']).code).toBe(2);
    expect(cli(['schedules', 'show', 'desk', '--next', '0']).code).toBe(2);
  }, 60_000);
});

describe('queues and events', () => {
  it('events tails cycle events as JSON lines and queue events as text lines', async () => {
    const tail = cliAsync(['events', '--json', '--type', 'cycle.completed', '--count', '1']);
    await waitFor(() => tail.out.stderr.includes('tailing events'), 90_000);
    await new Promise((r) => setTimeout(r, 300));
    const [ok] = JSON.parse(cli(['trigger', 'desk', '--ticker', 'SPY', '--wait', '--json']).out);
    expect(await tail.exited).toBe(0);
    const lines = tail.out.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ type: 'cycle.completed', job_id: ok.job_id, ticker: 'SPY', decision: 'HOLD' });

    const text = cliAsync(['events', '--type', 'queue', '--count', '2']);
    await waitFor(() => text.out.stderr.includes('tailing events'), 90_000);
    await new Promise((r) => setTimeout(r, 300));
    expect(cli(['queues', 'pause', 'trading-cycle']).out).toBe('queue trading-cycle paused\n');
    expect(cli(['queues']).out).toMatch(/trading-cycle\s+paused/);
    expect(cli(['queues', 'resume', 'trading-cycle']).out).toBe('queue trading-cycle resumed\n');
    expect(await text.exited).toBe(0);
    const [first, second] = text.out.stdout.trim().split('\n');
    expect(first).toMatch(/^\d\d:\d\d:\d\d ET\s+queue\.paused\s+queue=trading-cycle\s+by=.+\(cli\)$/);
    expect(second).toMatch(/queue\.resumed\s+queue=trading-cycle/);
    expect(cli(['queues', 'pause', 'nope']).code).toBe(2);
    expect(cli(['events', '--count', 'x']).code).toBe(2);
  }, 300_000);
});

describe('process groups under PM2', () => {
  it('restart, stop and start touch only the named group', () => {
    const pm2Home = mkdtempSync(join(tmpdir(), 'tl-pm2-ops-'));
    const pmEnv = { PM2_HOME: pm2Home, WORKER_INSTANCES: '1', PORT: '0', LOG_LEVEL: 'info' };
    type App = { name: string; pid: number; status: string; restarts: number };
    const status = () => JSON.parse(cli(['status', '--json'], pmEnv).out) as App[];
    const app = (list: App[], name: string) => list.find((a) => a.name === `tradeloop-${name}`)!;
    const settle = (ok: (l: App[]) => boolean) => {
      for (let i = 0; i < 60; i++) {
        const l = status();
        if (ok(l)) return l;
        spawnSync('sleep', ['0.5']);
      }
      throw new Error(`PM2 never reached the expected state: ${JSON.stringify(status())}`);
    };
    try {
      expect(cli(['start'], pmEnv).code).toBe(0);
      const before = settle((l) => l.length === 3 && l.every((a) => a.status === 'online' && a.pid > 0));
      // logs shows the error file's lines too (on stderr, as PM2 prints them), not only the output file's.
      const marker = `logs-marker-${process.pid}-${Date.now()}`;
      appendFileSync('logs/dashboard.err.log', `${marker}\n`);
      const logs = cli(['logs', 'dashboard', '--lines', '50'], pmEnv);
      expect(logs.code).toBe(0);
      expect(logs.err).toContain(marker);
      expect(cli(['restart', 'worker'], pmEnv).code).toBe(0);
      const after = settle((l) => app(l, 'worker').status === 'online' && app(l, 'worker').pid !== app(before, 'worker').pid);
      expect(app(after, 'worker').restarts).toBe(app(before, 'worker').restarts + 1);
      expect(app(after, 'scheduler').pid).toBe(app(before, 'scheduler').pid);
      expect(app(after, 'dashboard').pid).toBe(app(before, 'dashboard').pid);

      expect(cli(['stop', 'dashboard'], pmEnv).code).toBe(0);
      const stopped = settle((l) => app(l, 'dashboard').status === 'stopped');
      expect(app(stopped, 'scheduler').status).toBe('online');
      expect(app(stopped, 'worker').pid).toBe(app(after, 'worker').pid);
      expect(cli(['status'], pmEnv).code).toBe(1);
      expect(cli(['start', 'dashboard'], pmEnv).code).toBe(0);
      settle((l) => app(l, 'dashboard').status === 'online');
      expect(cli(['restart', 'everything'], pmEnv).code).toBe(2);
    } finally {
      spawnSync(process.execPath, ['node_modules/pm2/bin/pm2', 'kill'], { env: { ...env, PM2_HOME: pm2Home } });
    }
  }, 120_000);
});

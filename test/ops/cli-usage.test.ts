import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, type CliIO } from '../../src/cli/index.ts';
import { ecosystemLogFiles, printLogTails, tailLines } from '../../src/cli/log-files.ts';
import { parseJlist } from '../../src/cli/pm2-control.ts';
import { createRedisConnection, openQueues, closeQueues, productKeys, cycleJobDataSchema, BUILTIN_AGENTS } from '../../src/core/index.ts';
import { enqueueCycle } from '../../src/tasks/index.ts';
import { deletePrefix, testConfig, TEST_REDIS_URL, waitFor } from '../support/redis-test-env.ts';

/** Usage errors of the CLI, run in-process against a real Redis: a wrong option or value is exit 2, never ignored. */
const config = testConfig('cli-usage');

async function cli(args: string[], extraEnv: Record<string, string> = {}) {
  let out = '';
  let err = '';
  const io: CliIO = { stdout: (t) => void (out += t), stderr: (t) => void (err += t), env: { PATH: process.env.PATH, REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: config.QUEUE_PREFIX, LOG_LEVEL: 'silent', ...extraEnv } };
  const code = await runCli(args, io);
  return { code, out, err };
}

afterAll(async () => {
  await deletePrefix(config.QUEUE_PREFIX);
});

describe('tradeloop usage errors', () => {
  it('an option the command does not take is exit 2 naming it, not silently ignored', async () => {
    const r = await cli(['jobs', '--staus', 'failed']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/tradeloop jobs: unknown option --staus \(options: --status, .*--json/);
    expect(r.out).toBe('');
    const stop = await cli(['stop', '--json']);
    expect(stop.code).toBe(2);
    expect(stop.err).toMatch(/unknown option --json \(it takes no options/);
    // Free text after --note may start with dashes.
    expect((await cli(['schedules', 'pause', 'nope', '--note', '--dashes in a note'])).err).not.toMatch(/unknown option/);
  });

  it('an option given without its value is exit 2 naming it, not its default', async () => {
    for (const [args, opt] of [[['health', '--role'], '--role'], [['jobs', '--status', '--json'], '--status'], [['jobs', '--limit'], '--limit'], [['trigger', 'quant', '--ticker'], '--ticker']] as const) {
      const r = await cli([...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err).toBe(`tradeloop ${args[0]}: ${opt} needs a value (tradeloop ${args[0]} --help)\n`);
    }
    expect((await cli(['schedules', 'pause', 'nope', '--note'])).err).toMatch(/--note needs a value/);
  });

  it('a --timeout that is not a positive number of seconds is exit 2 before any cycle is sent', async () => {
    for (const args of [['test', '--timeout', '0'], ['test', '--timeout', 'abc'], ['trigger', 'quant', '--ticker', 'SPY', '--wait', '--timeout', 'x']]) {
      const r = await cli(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err).toMatch(/--timeout must be a positive number of seconds, got "/);
    }
    expect((await cli(['jobs', '--json'])).out).toBe('[]\n');
  });

  it('logs names a bad --lines or process group (constructor included) before PM2 is asked', async () => {
    expect(await cli(['logs', '--lines', 'abc'])).toMatchObject({ code: 2, err: 'tradeloop logs: --lines must be a positive integer, got "abc"\n' });
    for (const group of ['constructor', 'workers']) {
      expect(await cli(['logs', group])).toMatchObject({ code: 2, err: `tradeloop logs: unknown process group "${group}" (scheduler, worker, dashboard)\n` });
    }
  });

  it('status, stop, restart and logs with no PM2 daemon say so without starting one; a PM2 notice before the list is skipped', async () => {
    const home = mkdtempSync(join(tmpdir(), 'tl-pm2-'));
    try {
      const r = await cli(['status'], { PM2_HOME: home });
      expect(r).toMatchObject({ code: 1, out: 'tradeloop is not running under PM2 (tradeloop start)\n', err: '' });
      expect(existsSync(join(home, 'pm2.pid'))).toBe(false);
      expect(await cli(['stop'], { PM2_HOME: home })).toMatchObject({ code: 0, out: 'tradeloop is not running under PM2; nothing to stop\n' });
      expect(existsSync(join(home, 'pm2.pid'))).toBe(false);
      // Restarting nothing is a failure to report, not a start.
      for (const args of [['restart'], ['restart', 'worker']]) {
        expect(await cli(args, { PM2_HOME: home }), args.join(' ')).toEqual({ code: 1, out: '', err: 'tradeloop restart: tradeloop is not running under PM2; nothing to restart (tradeloop start)\n' });
        expect(existsSync(join(home, 'pm2.pid'))).toBe(false);
      }
      // logs reads the files PM2 left under ./logs (other tests' PM2 runs may or may not have written them yet).
      const logs = await cli(['logs', 'scheduler', '--lines', '5'], { PM2_HOME: home });
      expect(existsSync(join(home, 'pm2.pid'))).toBe(false);
      if (logs.code === 0) {
        expect(logs.err).toMatch(/^tradeloop is not running under PM2; the last lines of the log files it left under \.\/logs:\n/);
        expect(logs.out).toMatch(/^\/\S+\/logs\/scheduler\.(out|err)\.log last 5 lines:\n/);
      } else {
        expect(logs).toEqual({ code: 1, out: '', err: 'tradeloop is not running under PM2 and has left no log files of scheduler under ./logs (tradeloop start)\n' });
      }
    } finally {
      // Without the fix `pm2 jlist` spawned a daemon here: stop it.
      if (existsSync(join(home, 'pm2.pid'))) spawnSync(process.execPath, ['node_modules/pm2/bin/pm2', 'kill'], { env: { ...process.env, PM2_HOME: home } });
      rmSync(home, { recursive: true, force: true });
    }
    const list = parseJlist<{ name: string }>('\u001b[32m[PM2] \u001b[39mSpawning PM2 daemon with pm2_home=/x\n[PM2] PM2 Successfully daemonized\n[{"name":"tradeloop-worker"}]\n');
    expect(list).toEqual([{ name: 'tradeloop-worker' }]);
    expect(parseJlist('')).toEqual([]);
    expect(parseJlist('[PM2] something went wrong\n')).toBeNull();
  }, 30_000);

  it('a pm2.pid left behind by a daemon that is gone (a reboot, a kill) counts as no daemon', async () => {
    const home = mkdtempSync(join(tmpdir(), 'tl-pm2-stale-'));
    try {
      const gone = spawnSync(process.execPath, ['-e', '0']).pid!;
      writeFileSync(join(home, 'pm2.pid'), String(gone));
      expect(await cli(['status'], { PM2_HOME: home })).toMatchObject({ code: 1, out: 'tradeloop is not running under PM2 (tradeloop start)\n' });
      expect(await cli(['restart'], { PM2_HOME: home })).toMatchObject({ code: 1, err: 'tradeloop restart: tradeloop is not running under PM2; nothing to restart (tradeloop start)\n' });
      // No daemon was started: it would have written its own pid and opened its sockets.
      expect(readFileSync(join(home, 'pm2.pid'), 'utf8')).toBe(String(gone));
      expect(existsSync(join(home, 'rpc.sock'))).toBe(false);
    } finally {
      if (existsSync(join(home, 'rpc.sock'))) spawnSync(process.execPath, ['node_modules/pm2/bin/pm2', 'kill'], { env: { ...process.env, PM2_HOME: home } });
      rmSync(home, { recursive: true, force: true });
    }
  }, 30_000);

  it("logs without PM2 prints each file's last lines, oldest-written file first, error lines on stderr", () => {
    const dir = mkdtempSync(join(tmpdir(), 'tl-logs-'));
    try {
      const out = join(dir, 'worker.out.log');
      const err = join(dir, 'worker.err.log');
      // Longer than one read from the end, with a multi-byte character on every line, and no final newline.
      const lines = Array.from({ length: 5_000 }, (_, i) => `{"msg":"cycle ${i} é€"}`);
      writeFileSync(out, lines.join('\n'));
      writeFileSync(err, 'boom 1\nboom 2\n');
      utimesSync(err, new Date('2026-12-01T00:00:00Z'), new Date('2026-12-01T00:00:00Z'));
      expect(tailLines(out, 3)).toEqual(lines.slice(-3));
      expect(tailLines(out, 4_000)).toEqual(lines.slice(-4_000));
      expect(tailLines(err, 5)).toEqual(['boom 1', 'boom 2']);
      let stdout = '';
      let stderr = '';
      printLogTails([{ path: out, kind: 'out' }, { path: err, kind: 'err' }, { path: join(dir, 'missing.log'), kind: 'out' }], 2, { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t) });
      expect(stdout).toBe(`${err} last 2 lines:\n${out} last 2 lines:\n${lines.slice(-2).join('\n')}\n`);
      expect(stderr).toBe('boom 1\nboom 2\n');
      // The files the CLI reads are the ones ecosystem.config.cjs gives PM2.
      expect(ecosystemLogFiles(['worker']).map((f) => [f.path.split('/').slice(-2).join('/'), f.kind])).toEqual([['logs/worker.out.log', 'out'], ['logs/worker.err.log', 'err']]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('queues pause names the queue it does not know', async () => {
    const r = await cli(['queues', 'pause', 'trading-cycles']);
    expect(r.code).toBe(2);
    expect(r.err).toBe('tradeloop queues pause: unknown queue "trading-cycles" (trading-cycle, trading-cycle-priority)\n');
    expect((await cli(['queues', 'resume'])).err).toMatch(/name a queue/);
  });

  it('jobs --cursor: one it did not print is exit 2; the printed one pages on', async () => {
    const redis = createRedisConnection(config, 'producer');
    const queues = openQueues(redis, config.QUEUE_PREFIX);
    try {
      await waitFor(() => redis.status === 'ready');
      const store = { redis, keys: productKeys(config.QUEUE_PREFIX), queues };
      for (const ticker of ['SPY', 'QQQ']) {
        const data = cycleJobDataSchema.parse({ agent: 'quant', ticker, trigger: 'api', profile: BUILTIN_AGENTS.quant, date: '2026-11-20' });
        await enqueueCycle(queues, 'trading-cycle', data, store, config);
      }
    } finally {
      await closeQueues(queues);
      redis.disconnect();
    }
    const page = await cli(['jobs', '--limit', '1']);
    expect(page.code).toBe(0);
    const next = /next: tradeloop jobs --cursor (\S+) --limit 1/.exec(page.out)?.[1];
    expect(next).toBeDefined();
    const second = await cli(['jobs', '--limit', '1', '--cursor', next!]);
    expect(second.code).toBe(0);
    expect(second.out).toMatch(/SPY/);
    for (const bad of ['garbage', 'WzEsMl0']) {
      const r = await cli(['jobs', '--cursor', bad]);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/--cursor is not a cursor printed by tradeloop jobs/);
      expect(r.out).toBe('');
    }
  });

  it('a reader that closes the pipe early (| head) ends the command quietly, without a stack trace', async () => {
    const proc = spawn(process.execPath, ['bin/tradeloop.mjs', '--help'], { stdio: ['ignore', 'pipe', 'pipe'] });
    proc.stdout.destroy();
    let err = '';
    proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((resolve) => proc.on('exit', resolve));
    expect(err).not.toMatch(/EPIPE|Unhandled/);
    expect(code).toBe(0);
  }, 30_000);
});

import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testConfig, TEST_REDIS_URL } from './redis-test-env.ts';

export interface CliRun {
  code: number | null;
  out: string;
  err: string;
}

/** Runs `tradeloop <args>` as a user would, in its own process, with `env` as its whole environment. */
export function runCli(args: string[], env: Record<string, string | undefined>): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['bin/tradeloop.mjs', ...args], { env });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

/**
 * An install for CLI tests: a schedules file with one hourly `desk` schedule on `tickers`, its config
 * (own prefix), the environment a user's shell would have for it, and a synchronous `cli` on it.
 */
export function cliInstall(name: string, tickers: string[]) {
  const dir = mkdtempSync(join(tmpdir(), `tl-${name}-`));
  const file = join(dir, 'schedules.yaml');
  writeFileSync(file, `schedules:\n  - { id: desk, agent: quant, tickers: [${tickers.join(', ')}], every: 1h, market_hours: regular }\n`);
  const config = testConfig(name, { SCHEDULES_FILE: file });
  const env = { ...process.env, REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: config.QUEUE_PREFIX, SCHEDULES_FILE: file, LOG_LEVEL: 'silent' };
  const cli = (args: string[], extraEnv: Record<string, string> = {}): CliRun => {
    const r = spawnSync(process.execPath, ['bin/tradeloop.mjs', ...args], { env: { ...env, ...extraEnv }, encoding: 'utf8', timeout: 60_000 });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };
  return { dir, file, config, env, cli };
}

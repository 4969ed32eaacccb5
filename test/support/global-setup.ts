import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { findOnPath, pingRedis } from '../../src/launcher/embedded-redis.ts';
import { TEST_DATABASE_URL } from './pg-test-env.ts';

/**
 * What `npm test` needs beyond node_modules, made present before any test file runs: a Redis at
 * 127.0.0.1:6379 (or REDIS_URL), the redis-server binary (the launcher's tests start private ones),
 * Debian's Chromium for the browser tests and promtool for the alert rules. As root on Debian the
 * missing packages are installed with apt-get; otherwise the run stops at once, naming what is
 * missing and the command that installs it. Nothing is skipped instead.
 */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;
const hasApt = () => findOnPath('apt-get') !== null;

export interface Need {
  what: string;
  present: () => boolean;
  /** The Debian package that provides it. */
  debian: string;
}

const NEEDS: Need[] = [
  { what: '`redis-server` on PATH', present: () => findOnPath('redis-server') !== null, debian: 'redis-server' },
  { what: `Chromium at ${CHROMIUM}`, present: () => existsSync(CHROMIUM), debian: 'chromium' },
  { what: '`promtool` on PATH', present: () => findOnPath('promtool') !== null, debian: 'prometheus' },
];

function aptInstall(packages: string[]): void {
  console.log(`[test setup] installing ${packages.join(', ')} (apt-get, Debian packages)…`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...packages], { stdio: 'inherit', env });
}

/** Installs what is missing when it may (root with apt-get), else throws naming each piece and its command. */
export function ensurePackages(needs: Need[] = NEEDS, host = { root: isRoot(), apt: hasApt(), install: aptInstall }): void {
  const missing = needs.filter((n) => !n.present());
  if (missing.length === 0) return;
  if (host.root && host.apt) {
    host.install(missing.map((n) => n.debian));
    const still = missing.filter((n) => !n.present());
    if (still.length === 0) return;
    throw new Error(`[test setup] still missing after apt-get install: ${still.map((n) => n.what).join(', ')}`);
  }
  throw new Error(
    [
      '[test setup] the tests need programs this machine does not have:',
      ...missing.map((n) => `  - ${n.what} (Debian package "${n.debian}")`),
      `Install them, then run npm test again:  sudo apt-get install -y ${missing.map((n) => n.debian).join(' ')}`,
      ...(missing.some((n) => n.debian === 'chromium') ? ['(Chromium elsewhere: set CHROMIUM_PATH to its executable.)'] : []),
    ].join('\n'),
  );
}

let privateRedis: ChildProcess | null = null;
let privateDir: string | null = null;

async function ensureRedis(): Promise<void> {
  if (process.env.REDIS_URL) {
    const url = new URL(process.env.REDIS_URL);
    if (await pingRedis(url.hostname, Number(url.port || 6379), 2000)) return;
    throw new Error(`[test setup] REDIS_URL=${process.env.REDIS_URL} does not answer PING: start that Redis, or unset REDIS_URL to use 127.0.0.1:6379`);
  }
  if (await pingRedis('127.0.0.1', 6379, 1000)) return;
  // Nothing on the tests' address: a private, throw-away server there, stopped when the run ends.
  privateDir = mkdtempSync(join(tmpdir(), 'tradeloop-test-redis-'));
  privateRedis = spawn(findOnPath('redis-server')!, ['--port', '6379', '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction', '--dir', privateDir], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    if (await pingRedis('127.0.0.1', 6379, 200)) {
      console.log(`[test setup] started a private redis-server (pid ${privateRedis.pid}) on 127.0.0.1:6379`);
      return;
    }
    if (privateRedis.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('[test setup] no Redis answers on 127.0.0.1:6379 and a private redis-server could not start there (is the port taken by something else?)');
}

/** The durable-history tests need a PostgreSQL they may create schemas in; without one, stop at once and say how to get it. */
export async function ensurePostgres(url = TEST_DATABASE_URL): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3_000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (err) {
    const shown = url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:(hidden)@');
    throw new Error(
      [
        `[test setup] the durable-history tests need PostgreSQL at ${shown} (TEST_DATABASE_URL): ${(err as Error).message}`,
        '  Debian: sudo apt-get install -y postgresql, then create a role and a database the URL can reach, e.g.',
        '    sudo -u postgres createuser --superuser "$USER" && sudo -u postgres createdb -O "$USER" test',
        '  and set TEST_DATABASE_URL=postgres://$USER@localhost/test (or give the URL a password).',
      ].join('\n'),
    );
  } finally {
    await client.end().catch(() => undefined);
  }
}

export default async function setup(): Promise<() => Promise<void>> {
  ensurePackages();
  await ensureRedis();
  await ensurePostgres();
  return async () => {
    if (privateRedis && privateRedis.exitCode === null) {
      privateRedis.kill('SIGTERM');
      await new Promise((r) => privateRedis!.once('exit', r));
    }
    if (privateDir) rmSync(privateDir, { recursive: true, force: true });
  };
}

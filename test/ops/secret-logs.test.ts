import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { chooseRedis, type EmbeddedRedis } from '../../src/launcher/index.ts';
import { waitFor } from '../support/redis-test-env.ts';

const SECRETS = {
  DASHBOARD_TOKEN: 'secret-admin-token-7f3a9c1e',
  DASHBOARD_READ_TOKEN: 'secret-read-token-2b8d4e6f',
  OPENAI_API_KEY: 'sk-secret-openai-5c7e9a1b',
  ALPACA_API_KEY_ID: 'secret-alpaca-id-3d5f7b9c',
  ALPACA_API_SECRET_KEY: 'secret-alpaca-key-8e1a3c5d',
};
const processes: Array<ChildProcess & { output: string }> = [];
let embedded: EmbeddedRedis | null = null;
afterAll(async () => {
  processes.forEach((p) => p.kill('SIGKILL'));
  await embedded?.stop();
});

function start(script: string, env: Record<string, string>): ChildProcess & { output: string } {
  const child = spawn(process.execPath, [script], { env: { PATH: process.env.PATH!, HOME: process.env.HOME ?? '/tmp', LOG_FORMAT: 'json', LOG_LEVEL: 'debug', ...env }, stdio: ['ignore', 'pipe', 'pipe'] }) as ChildProcess & { output: string };
  child.output = '';
  child.stdout!.on('data', (c: Buffer) => (child.output += c));
  child.stderr!.on('data', (c: Buffer) => (child.output += c));
  processes.push(child);
  return child;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? filesUnder(join(dir, n)) : [join(dir, n)]));
}

describe('secrets never reach a log line, an error, a result or Redis', () => {
  it('greps every output of a running install (debug logs, sandbox children, errors) for the secrets it was given', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tl-secrets-'));
    const choice = await chooseRedis({ env: { PATH: process.env.PATH }, dataDir: join(dir, 'redis'), log: () => {}, defaultPort: 1 });
    embedded = choice.embedded;
    const password = new URL(choice.url).password;
    expect(password.length).toBeGreaterThan(20);
    const env = { ...SECRETS, REDIS_URL: choice.url, QUEUE_PREFIX: 'secrets', MARKET_DATA: 'simulated', RESULTS_DIR: join(dir, 'results'), SCHEDULES_FILE: 'schedules.yaml', PORT: '0', AUTH_MAX_FAILURES: '3' };
    const worker = start('bin/worker.mjs', env);
    const dashboard = start('bin/dashboard.mjs', env);
    const base = await waitFor(() => /"url":"(http:\/\/[^"]+)"/.exec(dashboard.output)?.[1], 30_000);
    const api = (path: string, init: RequestInit = {}) => fetch(`${base}${path}`, init);
    // Failures of every kind: bad tokens until rate limited, a malformed cookie, a bad login, cross-site writes.
    for (let i = 0; i < 5; i++) await api('/api/queues', { headers: { authorization: `Bearer ${SECRETS.DASHBOARD_TOKEN}x` } });
    await api('/api/queues', { headers: { cookie: 'tl_session=%E0%A4%A' } });
    await api('/login', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `token=${SECRETS.DASHBOARD_READ_TOKEN}x`, redirect: 'manual' });
    // Work that runs through the sandbox child.
    const auth = { authorization: `Bearer ${SECRETS.DASHBOARD_TOKEN}`, 'content-type': 'application/json' };
    // This client is rate limited by now (429: refused before the token is looked at); the CLI runs a cycle.
    const posted = await fetch(`${base}/api/jobs`, { method: 'POST', headers: auth, body: JSON.stringify({ ticker: 'SPY' }) });
    expect(posted.status).toBe(429);
    const redis = new Redis(choice.url);
    const cli = spawn(process.execPath, ['bin/tradeloop.mjs', 'trigger', 'quant', '--ticker', 'QQQ', '--wait', '--timeout', '60'], { env: { PATH: process.env.PATH!, ...env, LOG_LEVEL: 'debug' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let cliOut = '';
    cli.stdout.on('data', (c: Buffer) => (cliOut += c));
    cli.stderr.on('data', (c: Buffer) => (cliOut += c));
    const cliCode = await new Promise<number | null>((r) => cli.once('exit', r));
    expect(cliCode, cliOut).toBe(0);
    // A configuration error that includes the Redis password.
    const bad = start('bin/worker.mjs', { ...env, REDIS_URL: `http://user:${password}@127.0.0.1:1` });
    await new Promise((r) => bad.once('exit', r));
    expect(bad.output).toMatch(/REDIS_URL/);
    // Everything that was written: process output, result files, every Redis value under the prefix.
    const written = [worker.output, dashboard.output, bad.output, cliOut, ...filesUnder(join(dir, 'results')).map((f) => readFileSync(f, 'utf8'))];
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', 'secrets:*', 'COUNT', 1000);
      cursor = next;
      for (const key of keys) {
        const type = await redis.type(key);
        if (type === 'string') written.push(String(await redis.get(key)));
        if (type === 'hash') written.push(JSON.stringify(await redis.hgetall(key)));
        if (type === 'list') written.push(JSON.stringify(await redis.lrange(key, 0, -1)));
      }
    } while (cursor !== '0');
    redis.disconnect();
    const all = written.join('\n');
    expect(all.length).toBeGreaterThan(1000);
    expect(all).toMatch(/cycle/); // the sandboxed cycle logged
    for (const [name, value] of Object.entries({ ...SECRETS, REDIS_PASSWORD: password })) expect(all.includes(value), name).toBe(false);
  }, 180_000);
});

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { checkEvictionPolicy, ConfigError } from '../../src/core/index.ts';
import { TEST_REDIS_URL, waitFor } from '../support/redis-test-env.ts';

const started: ChildProcess[] = [];
afterAll(() => started.forEach((p) => p.kill('SIGKILL')));

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** A private redis-server with the given eviction policy. */
async function redisWithPolicy(policy: string): Promise<string> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'tl-evict-'));
  started.push(spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', '--maxmemory-policy', policy], { stdio: 'ignore' }));
  const url = `redis://127.0.0.1:${port}`;
  await waitFor(async () => {
    const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    r.on('error', () => {});
    try {
      await r.connect();
      return (await r.ping()) === 'PONG';
    } finally {
      r.disconnect();
    }
  });
  return url;
}

function runProcess(script: string, env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [script], { env: { ...process.env, LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    started.push(child);
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c));
    child.stderr.on('data', (c: Buffer) => (output += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.once('exit', (code) => (clearTimeout(timer), resolve({ code, output })));
  });
}

describe('Redis eviction policy', () => {
  it('accepts noeviction and refuses an evicting policy with the reason', async () => {
    expect(await checkEvictionPolicy({ REDIS_URL: TEST_REDIS_URL })).toBe('ok');
    const lru = await redisWithPolicy('allkeys-lru');
    const err = await checkEvictionPolicy({ REDIS_URL: lru }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/maxmemory-policy allkeys-lru; tradeloop needs noeviction/);
    expect((err as Error).message).toMatch(/leader leases/);
    expect(await checkEvictionPolicy({ REDIS_URL: 'redis://127.0.0.1:1' })).toBe('unreachable');
  });

  it('every process refuses to start on a volatile-* Redis, saying why (exit 2)', async () => {
    const url = await redisWithPolicy('volatile-lru');
    const env = { REDIS_URL: url, QUEUE_PREFIX: `evict-${process.pid}`, SCHEDULES_FILE: 'schedules.yaml', PORT: '0' };
    for (const script of ['bin/worker.mjs', 'bin/scheduler.mjs', 'bin/dashboard.mjs']) {
      const { code, output } = await runProcess(script, env);
      expect(code, script).toBe(2);
      expect(output, script).toMatch(/maxmemory-policy volatile-lru; tradeloop needs noeviction/);
    }
  });
});

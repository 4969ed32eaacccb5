import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import pino from 'pino';
import { deleteKeysByPrefix, loadConfig, type Config } from '../../src/core/index.ts';

export const TEST_REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A unique QUEUE_PREFIX per test file, so parallel test files (and a running product) never share keys. */
export function uniquePrefix(name: string): string {
  return `test-${name}-${randomBytes(4).toString('hex')}`;
}

export function testConfig(name: string, env: Record<string, string> = {}): Config {
  return loadConfig({
    REDIS_URL: TEST_REDIS_URL,
    QUEUE_PREFIX: uniquePrefix(name),
    LOG_LEVEL: 'silent',
    MARKET_DATA: 'simulated',
    RESULTS_DIR: `/tmp/tradeloop-test-results/${name}`,
    ...env,
  });
}

export const silentLogger = pino({ level: 'silent' });

/** Deletes every key under the prefix (SCAN, not KEYS, so a shared Redis is not blocked). */
export async function deletePrefix(prefix: string, url = TEST_REDIS_URL): Promise<void> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    await deleteKeysByPrefix(redis, prefix);
  } finally {
    redis.disconnect();
  }
}

/** Polls until `check` returns a truthy value or the timeout passes. */
export async function waitFor<T>(check: () => Promise<T | null | undefined | false> | T | null | undefined | false, timeoutMs = 10_000, intervalMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value) return value;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`condition not met within ${timeoutMs} ms${last ? `: ${String(last)}` : ''}`);
}

import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { TEST_REDIS_URL, uniquePrefix } from '../support/redis-test-env.ts';

/** `npm run worker -- …`: bad options are usage errors (exit 2) with one line naming them, before Redis is touched. */
const env = { ...process.env, REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: uniquePrefix('worker-args'), LOG_LEVEL: 'silent' };
const worker = (args: string[]) => spawnSync(process.execPath, ['bin/worker.mjs', ...args], { env, encoding: 'utf8', timeout: 30_000 });

describe('worker command line', () => {
  it.each([
    [['--concurency', '2'], /^tradeloop worker: Unknown option '--concurency'.*\(options: --queues q1,q2 --concurrency N\)\n$/],
    [['extra'], /^tradeloop worker: .*extra.*\n$/],
    [['--queues', 'nope'], /^tradeloop worker: unknown queue "nope"/],
    [['--concurrency', '0'], /^tradeloop worker: --concurrency must be a positive integer, got "0"/],
  ])('%j is exit 2 with one line', (args, message) => {
    const r = worker(args);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/at |node:internal/);
  });
});

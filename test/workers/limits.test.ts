import type { MinimalJob } from 'bullmq';
import { afterAll, describe, expect, it } from 'vitest';
import { createRedisConnection, CycleAbortedError, productKeys } from '../../src/core/index.ts';
import { cappedBackoff } from '../../src/tasks/backoff.ts';
import { createCallRateLimiter } from '../../src/tasks/call-rate-limiter.ts';
import { deletePrefix, testConfig } from '../support/redis-test-env.ts';

const job = (queueName: string, delay?: number) => ({ queueName, opts: { backoff: delay ? { type: 'capped-exponential', delay } : undefined } }) as unknown as MinimalJob;

describe('retry backoff', () => {
  const config = testConfig('backoff');

  it('doubles from the 2 s base and stops at the cap', () => {
    const top = cappedBackoff(config, () => 1); // jitter at its maximum: the ceiling itself
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => top(n, 'capped-exponential', undefined, job('trading-cycle')))).toEqual([2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000]);
  });

  it('jitters between half and all of the ceiling', () => {
    const low = cappedBackoff(config, () => 0);
    expect(low(3, undefined, undefined, job('trading-cycle'))).toBe(4_000);
    const values = Array.from({ length: 200 }, () => cappedBackoff(config)(3, undefined, undefined, job('trading-cycle')));
    expect(Math.min(...values)).toBeGreaterThanOrEqual(4_000);
    expect(Math.max(...values)).toBeLessThanOrEqual(8_000);
    expect(new Set(values).size).toBeGreaterThan(1);
  });

  it('takes the cap from config and the base from the job', () => {
    const capped = cappedBackoff(testConfig('backoff', { CYCLE_BACKOFF_CAP_MS: '5000' }), () => 1);
    expect(capped(10, undefined, undefined, job('trading-cycle-priority'))).toBe(5_000);
    expect(capped(2, undefined, undefined, job('trading-cycle', 100))).toBe(200);
  });
});

describe('outbound call rate limit (shared through Redis)', () => {
  const config = testConfig('ratelimit');
  const keys = productKeys(config.QUEUE_PREFIX);
  const a = createRedisConnection(config, 'worker');
  const b = createRedisConnection(config, 'worker');
  afterAll(async () => {
    a.disconnect();
    b.disconnect();
    await deletePrefix(config.QUEUE_PREFIX);
  });

  it('grants at most `max` calls per window across workers; the others wait for a later window', async () => {
    const limit = { max: 2, durationMs: 300 };
    // Two workers (two connections) share the queue's budget.
    const first = createCallRateLimiter(a, keys, 'trading-cycle', limit);
    const second = createCallRateLimiter(b, keys, 'trading-cycle', limit);
    const window = () => Math.floor(Date.now() / limit.durationMs);
    const start = window();
    await Promise.all([first('llm'), first('llm'), first('llm'), second('llm'), second('llm'), second('llm')]);
    // Six calls at two per window cannot all be granted before a third window begins.
    expect(window() - start).toBeGreaterThanOrEqual(2);
  });

  it('keeps separate budgets per call kind and queue', async () => {
    const limit = { max: 1, durationMs: 60_000 };
    await createCallRateLimiter(a, keys, 'q1', limit)('llm');
    // These would wait a minute if they shared the used-up budget.
    await createCallRateLimiter(a, keys, 'q1', limit)('data');
    await createCallRateLimiter(a, keys, 'q2', limit)('llm');
    expect(Number(await a.get(keys.custom('rate', 'q1', 'llm', String(Math.floor(Date.now() / 60_000)))))).toBe(1);
  });

  it('stops waiting when the cycle is aborted', async () => {
    const take = createCallRateLimiter(a, keys, 'q3', { max: 1, durationMs: 60_000 });
    await take('data');
    const controller = new AbortController();
    const waiting = take('data', controller.signal);
    setTimeout(() => controller.abort('soft time limit exceeded'), 50);
    await expect(waiting).rejects.toBeInstanceOf(CycleAbortedError);
  });
});

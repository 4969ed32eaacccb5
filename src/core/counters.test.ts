import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { counterField, incrementCounter, parseCounterField, productKeys, readCounters } from './index.ts';
import { deletePrefix, TEST_REDIS_URL, uniquePrefix } from '../../test/support/redis-test-env.ts';

const prefix = uniquePrefix('counters');
const redis = new Redis(TEST_REDIS_URL);
afterAll(async () => {
  redis.disconnect();
  await deletePrefix(prefix);
});

describe('counters', () => {
  it('round-trips names and labels, whatever their order', () => {
    const f = counterField('skipped_total', { schedule: 'desk "a"', reason: 'overlap' });
    expect(f).toBe(counterField('skipped_total', { reason: 'overlap', schedule: 'desk "a"' }));
    expect(parseCounterField(f)).toEqual({ name: 'skipped_total', labels: { reason: 'overlap', schedule: 'desk "a"' } });
  });

  it('sums increments from several callers in Redis', async () => {
    const keys = productKeys(prefix);
    await Promise.all([1, 2, 3].map(() => incrementCounter(redis, keys, 'rearmed_total', { schedule: 'x' })));
    await incrementCounter(redis, keys, 'cost_usd_total', { agent: 'a' }, 0.25);
    const all = await readCounters(redis, keys);
    expect(all.find((c) => c.name === 'rearmed_total')?.value).toBe(3);
    expect(all.find((c) => c.name === 'cost_usd_total')).toEqual({ name: 'cost_usd_total', labels: { agent: 'a' }, value: 0.25 });
  });
});

import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startJob } from '../../src/tasks/job-start.ts';
import { startRedisServer, type RedisProcess } from '../support/redis-deployments.ts';
import { deletePrefix, TEST_REDIS_URL, uniquePrefix } from '../support/redis-test-env.ts';

/** The start of a job in one Lua call, against the shared Redis and a private one that refuses writes (OOM). */
const prefix = uniquePrefix('job-start');
let redis: Redis;
let oom: RedisProcess;
let full: Redis;

beforeAll(async () => {
  redis = new Redis(TEST_REDIS_URL);
  oom = await startRedisServer();
  full = new Redis(oom.port, '127.0.0.1', { maxRetriesPerRequest: 1 });
});
afterAll(async () => {
  await deletePrefix(prefix);
  redis.disconnect();
  full.disconnect();
  await oom.stop();
});

const attempt = (k: string) => [['RPUSH', k, 'entry'] as [string, string, string], ['EXPIRE', k, '60'] as [string, string, string]];

describe('startJob', () => {
  it('sends the writes, answers the reads in order and takes a free lease', async () => {
    await redis.set(`${prefix}:analysis:j1`, '{"decision":"BUY"}');
    await redis.rpush(`${prefix}:attempts:j1`, 'earlier');
    const answer = await startJob(redis, {
      bestEffort: attempt(`${prefix}:attempts:j1`),
      writes: [['ZADD', `${prefix}:index`, '5', 'j1']],
      reads: [`${prefix}:tombstone:j1`, `${prefix}:analysis:j1`],
      lease: { key: `${prefix}:lease`, holder: 'j1', ttlMs: 60_000 },
    });
    expect(answer).toEqual({ firstReply: 2, reads: [null, '{"decision":"BUY"}'], lease: { took: true, holder: 'j1' } });
    expect(await redis.zscore(`${prefix}:index`, 'j1')).toBe('5');
    expect(await redis.ttl(`${prefix}:attempts:j1`)).toBeGreaterThan(50);
    expect(await redis.get(`${prefix}:lease`)).toBe('j1');
  });

  it('a lease held by the same job is renewed; one held by another job names its holder and is left alone', async () => {
    await redis.set(`${prefix}:lease2`, 'j2', 'PX', 1_000);
    const own = await startJob(redis, { bestEffort: [], writes: [], reads: [], lease: { key: `${prefix}:lease2`, holder: 'j2', ttlMs: 60_000 } });
    expect(own.lease).toEqual({ took: false, holder: 'j2' });
    expect(await redis.pttl(`${prefix}:lease2`)).toBeGreaterThan(50_000);
    const other = await startJob(redis, { bestEffort: [], writes: [], reads: [`${prefix}:none`], lease: { key: `${prefix}:lease2`, holder: 'j3', ttlMs: 5_000 } });
    expect(other).toEqual({ firstReply: null, reads: [null], lease: { took: false, holder: 'j2' } });
    expect(await redis.pttl(`${prefix}:lease2`)).toBeGreaterThan(50_000);
  });

  it('a Redis refusing writes: the best-effort writes are skipped and the reads still answered; a write that must land fails the call', async () => {
    await full.set('tomb', 'cancelled');
    await full.config('SET', 'maxmemory', '1');
    try {
      const answer = await startJob(full, { bestEffort: attempt('attempts'), writes: [], reads: ['tomb', 'analysis'] });
      expect(answer).toEqual({ firstReply: null, reads: ['cancelled', null] });
      expect(await full.exists('attempts')).toBe(0);
      await expect(startJob(full, { bestEffort: [], writes: [['ZADD', 'index', '1', 'j']], reads: ['tomb'] })).rejects.toThrow(/OOM/);
    } finally {
      await full.config('SET', 'maxmemory', '0');
    }
  });
});

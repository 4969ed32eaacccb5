import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeQueues, createRedisConnection, openQueues, sendWrites } from '../../src/core/index.ts';
import { deletePrefix, testConfig, waitFor } from '../support/redis-test-env.ts';

/** Writes sent together (job index entries, metrics, schedule runs) on a connection that also carries BullMQ's queues. */
const config = testConfig('sendwrites');
const redis = createRedisConnection(config, 'producer');
const queues = openQueues(redis, config.QUEUE_PREFIX);
const p = (name: string) => `${config.QUEUE_PREFIX}:sw:${name}`;

beforeAll(async () => {
  await waitFor(() => redis.status === 'ready');
  // BullMQ defines its scripts on the connection its queues use: the writes must not depend on them.
  await queues['trading-cycle'].count();
});
afterAll(async () => {
  await closeQueues(queues);
  redis.disconnect();
  await deletePrefix(config.QUEUE_PREFIX);
});

describe('sendWrites', () => {
  it('applies every write in order in one call, a key used twice included', async () => {
    await sendWrites(redis, [
      ['ZADD', p('z'), 'NX', '2', 'b'],
      ['ZADD', p('z'), 'NX', '1', 'a'],
      ['ZREMRANGEBYSCORE', p('z'), '-inf', '1'],
      ['HSET', p('h'), 'field', 'with "quotes" and ünïcode'],
      ['PEXPIRE', p('z'), '60000'],
    ]);
    expect(await redis.zrange(p('z'), '0', '-1')).toEqual(['b']);
    expect(await redis.hget(p('h'), 'field')).toBe('with "quotes" and ünïcode');
    expect(await redis.pttl(p('z'))).toBeGreaterThan(50_000);
  });

  it('sends nothing for no writes, and rejects with Redis\'s error when a write is refused', async () => {
    await expect(sendWrites(redis, [])).resolves.toBeUndefined();
    await redis.set(p('s'), 'a string');
    await expect(sendWrites(redis, [['HSET', p('before'), 'f', '1'], ['ZADD', p('s'), '1', 'x']])).rejects.toThrow(/WRONGTYPE/);
    expect(await redis.get(p('s'))).toBe('a string');
  });
});

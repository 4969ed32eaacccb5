import type { Redis } from 'ioredis';
import type { ProductKeys } from '../core/index.ts';

const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

export const overlapLeaseKey = (keys: ProductKeys, pair: string) => keys.custom('running', pair);

/**
 * One running cycle per (schedule, ticker): a lease holding the running job's id. It expires with the
 * hard time limit, so a crashed worker cannot block the pair for longer than one cycle could run.
 */
export async function acquireOverlapLease(redis: Redis, keys: ProductKeys, pair: string, jobId: string, ttlMs: number): Promise<string | null> {
  const key = overlapLeaseKey(keys, pair);
  const ok = await redis.set(key, jobId, 'PX', ttlMs, 'NX');
  if (ok === 'OK') return null;
  const holder = await redis.get(key);
  // A retry or a recovered run of the same job holds its own lease.
  if (holder === jobId) {
    await redis.pexpire(key, ttlMs);
    return null;
  }
  return holder ?? (await acquireOverlapLease(redis, keys, pair, jobId, ttlMs));
}

export async function releaseOverlapLease(redis: Redis, keys: ProductKeys, pair: string, jobId: string): Promise<void> {
  await redis.eval(RELEASE, 1, overlapLeaseKey(keys, pair), jobId);
}

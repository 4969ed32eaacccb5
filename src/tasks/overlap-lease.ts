import type { Redis } from 'ioredis';
import type { ProductKeys } from '../core/index.ts';

const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

/**
 * One running cycle per (schedule, ticker): a lease holding the running job's id, taken at the job's
 * start (job-start.ts). It expires with the hard time limit, so a crashed worker cannot block the pair
 * for longer than one cycle could run.
 */
export const overlapLeaseKey = (keys: ProductKeys, pair: string) => keys.custom('running', pair);

export async function releaseOverlapLease(redis: Redis, keys: ProductKeys, pair: string, jobId: string): Promise<void> {
  await redis.eval(RELEASE, 1, overlapLeaseKey(keys, pair), jobId);
}

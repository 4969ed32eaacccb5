import type { Redis } from 'ioredis';

/**
 * One Redis write as data: the command, its key, its arguments. Code that records something returns
 * its writes instead of sending them, so a caller can send the writes of several records together
 * (one MULTI, or one Lua call that sends them only once per job).
 */
export type RedisWrite = [command: string, key: string, ...args: string[]];

/** Sends writes in one MULTI: one round trip, all or nothing. */
export async function sendWrites(redis: Redis, writes: RedisWrite[]): Promise<void> {
  if (!writes.length) return;
  const multi = redis.multi();
  for (const [command, key, ...args] of writes) multi.call(command, key, ...args);
  const results = await multi.exec();
  const failed = results?.find(([err]) => err);
  if (failed) throw failed[0];
}

import { Redis, type RedisOptions } from 'ioredis';
import { ConfigError, type Config } from './config.ts';

/**
 * `worker`: long-lived consumers (BullMQ Worker, QueueEvents, scheduler) — commands wait
 * through an outage and are retried after reconnecting (BullMQ requires maxRetriesPerRequest: null).
 * `producer`: request/response paths (the API) — fail fast so an outage becomes a quick 503, not a hang.
 */
export type ConnectionRole = 'worker' | 'producer';

export function redisOptions(role: ConnectionRole): RedisOptions {
  const base: RedisOptions = {
    lazyConnect: false,
    connectTimeout: 5_000,
    // Reconnect forever, backing off to 2 s: an outage must never become a crash loop.
    retryStrategy: (times) => Math.min(100 * times, 2_000),
    reconnectOnError: (err) => err.message.includes('READONLY'),
  };
  if (role === 'worker') return { ...base, maxRetriesPerRequest: null, enableReadyCheck: true };
  return { ...base, maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 2_000 };
}

export function createRedisConnection(config: Pick<Config, 'REDIS_URL'>, role: ConnectionRole): Redis {
  const client = new Redis(config.REDIS_URL, redisOptions(role));
  // ioredis emits 'error' on every failed reconnect; an unhandled 'error' event would kill the process.
  client.on('error', () => {});
  return client;
}

/** The Redis URL with any password removed, safe for logs. */
export function describeRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(invalid url)';
  }
}

export function isRedisReady(client: Redis): boolean {
  return client.status === 'ready';
}

/** Deletes every key under `<prefix>:` with SCAN + UNLINK, so a shared Redis is never blocked (tests, bench, drills). */
export async function deleteKeysByPrefix(client: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 5000);
    cursor = next;
    if (keys.length) await client.unlink(...keys);
  } while (cursor !== '0');
}

/**
 * Every process refuses a Redis that may evict keys: an evicted record-once marker, fill marker or
 * leader lease would mean duplicate fills, double-recorded runs and two scheduler leaders.
 * Answers 'unreachable' when Redis cannot be asked now (the process starts and keeps reconnecting).
 */
export async function checkEvictionPolicy(config: Pick<Config, 'REDIS_URL'>, timeoutMs = 3_000): Promise<'ok' | 'unreachable' | 'unknown'> {
  const client = new Redis(config.REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, connectTimeout: timeoutMs, retryStrategy: () => null });
  client.on('error', () => {});
  try {
    await client.connect();
  } catch {
    client.disconnect();
    return 'unreachable';
  }
  try {
    return await assertNoEviction(client, config.REDIS_URL);
  } finally {
    client.disconnect();
  }
}

/** The eviction check on a connection already open (the CLI's), so a command pays no second connect. */
export async function assertNoEviction(client: Redis, url: string): Promise<'ok' | 'unknown'> {
  let policy = /maxmemory_policy:(\S+)/.exec(await client.info('memory'))?.[1];
  if (!policy) policy = ((await client.call('CONFIG', 'GET', 'maxmemory-policy').catch(() => [])) as string[])[1];
  if (!policy) return 'unknown';
  if (policy !== 'noeviction') {
    throw new ConfigError(
      `Redis at ${describeRedisUrl(url)} has maxmemory-policy ${policy}; tradeloop needs noeviction. ` +
        'Evicting keys would drop record-once markers, paper-fill markers and leader leases (duplicate fills, two scheduler leaders). ' +
        'Fix: CONFIG SET maxmemory-policy noeviction, and set it in redis.conf so it survives a restart.',
    );
  }
  return 'ok';
}

import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { ConfigError, type Config } from './config.ts';

/**
 * `worker`: long-lived consumers (BullMQ Worker, QueueEvents, scheduler) — commands wait
 * through an outage and are retried after reconnecting (BullMQ requires maxRetriesPerRequest: null).
 * `producer`: request/response paths (the API) — fail fast so an outage becomes a quick 503, not a hang.
 */
export type ConnectionRole = 'worker' | 'producer';

/** The variables that say where Redis is and how to log in; every Config has them. */
export type RedisConfig = Pick<Config, 'REDIS_URL'> &
  Partial<
    Pick<
      Config,
      | 'REDIS_SENTINELS'
      | 'REDIS_SENTINEL_NAME'
      | 'REDIS_SENTINEL_USERNAME'
      | 'REDIS_SENTINEL_PASSWORD'
      | 'REDIS_CLUSTER_NODES'
      | 'REDIS_USERNAME'
      | 'REDIS_PASSWORD'
      | 'REDIS_TLS_CA'
      | 'REDIS_TLS_CERT'
      | 'REDIS_TLS_KEY'
    >
  >;

export type RedisMode = 'standalone' | 'sentinel' | 'cluster';

export function redisMode(config: RedisConfig): RedisMode {
  if (config.REDIS_CLUSTER_NODES?.length) return 'cluster';
  if (config.REDIS_SENTINELS?.length) return 'sentinel';
  return 'standalone';
}

export function redisOptions(role: ConnectionRole): RedisOptions {
  const base: RedisOptions = {
    lazyConnect: false,
    connectTimeout: 5_000,
    // Reconnect forever, backing off to 2 s: an outage must never become a crash loop.
    retryStrategy: (times) => Math.min(100 * times, 2_000),
    // A demoted primary answers READONLY: reconnect, which asks the sentinels for the new one.
    reconnectOnError: (err) => err.message.includes('READONLY'),
  };
  if (role === 'worker') return { ...base, maxRetriesPerRequest: null, enableReadyCheck: true };
  return { ...base, maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 2_000 };
}

/** TLS options from rediss:// and the REDIS_TLS_* files; undefined means plain TCP. */
export function redisTls(config: RedisConfig): ConnectionOptions | undefined {
  const wanted = config.REDIS_URL.startsWith('rediss://') || Boolean(config.REDIS_TLS_CA || config.REDIS_TLS_CERT);
  if (!wanted) return undefined;
  const tls: ConnectionOptions = {};
  if (config.REDIS_TLS_CA) tls.ca = readFileSync(config.REDIS_TLS_CA);
  if (config.REDIS_TLS_CERT) tls.cert = readFileSync(config.REDIS_TLS_CERT);
  if (config.REDIS_TLS_KEY) tls.key = readFileSync(config.REDIS_TLS_KEY);
  return tls;
}

/** Host, port, credentials and database from REDIS_URL, with REDIS_USERNAME / REDIS_PASSWORD taking precedence. */
function endpoint(config: RedisConfig): Pick<RedisOptions, 'host' | 'port' | 'username' | 'password' | 'db'> {
  const u = new URL(config.REDIS_URL);
  const db = Number(u.pathname.replace(/^\//, '') || 0);
  const username = config.REDIS_USERNAME ?? (u.username ? decodeURIComponent(u.username) : undefined);
  const password = config.REDIS_PASSWORD ?? (u.password ? decodeURIComponent(u.password) : undefined);
  return {
    host: u.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1',
    port: Number(u.port || 6379),
    db,
    ...(username ? { username } : {}),
    ...(password ? { password } : {}),
  };
}

/**
 * A connection for `role` to the configured deployment: one server (REDIS_URL), a Sentinel-watched
 * primary (REDIS_SENTINELS), or a Cluster (REDIS_CLUSTER_NODES).
 *
 * A Cluster is returned under the `Redis` type: both classes are ioredis Commanders with the same
 * command methods, so the rooms stay written against one type. It works because QUEUE_PREFIX must be
 * {hash-tagged} in Cluster mode: every key, script and MULTI of an install lands in one slot.
 * Node-wide commands go through this module (`deleteKeysByPrefix`, `confirmReplicated`).
 */
export function createRedisConnection(config: RedisConfig, role: ConnectionRole): Redis {
  const options = redisOptions(role);
  const tls = redisTls(config);
  const { host, port, db, ...credentials } = endpoint(config);
  let client: Redis;
  switch (redisMode(config)) {
    case 'cluster': {
      const cluster = new Cluster(config.REDIS_CLUSTER_NODES!, {
        redisOptions: { ...options, ...credentials, ...(tls ? { tls } : {}) },
        clusterRetryStrategy: (times) => Math.min(100 * times, 2_000),
        enableOfflineQueue: role === 'worker',
        enableReadyCheck: true,
        ...(role === 'worker' ? { maxRetriesPerRequest: null } : {}),
      } as ConstructorParameters<typeof Cluster>[1]);
      client = cluster as unknown as Redis;
      break;
    }
    case 'sentinel':
      client = new Redis({
        ...options,
        ...credentials,
        db,
        sentinels: config.REDIS_SENTINELS!,
        name: config.REDIS_SENTINEL_NAME ?? 'mymaster',
        ...(config.REDIS_SENTINEL_USERNAME ? { sentinelUsername: config.REDIS_SENTINEL_USERNAME } : {}),
        ...(config.REDIS_SENTINEL_PASSWORD ? { sentinelPassword: config.REDIS_SENTINEL_PASSWORD } : {}),
        ...(tls ? { tls, enableTLSForSentinelMode: true, sentinelTLS: tls } : {}),
        // Subscribe to +switch-master so a failover is followed at once, not at the next error.
        failoverDetector: true,
        sentinelRetryStrategy: (times: number) => Math.min(100 * times, 2_000),
      });
      break;
    default:
      client = new Redis({ ...options, host, port, db, ...credentials, ...(tls ? { tls } : {}) });
  }
  // ioredis emits 'error' on every failed reconnect; an unhandled 'error' event would kill the process.
  client.on('error', () => {});
  return client;
}

export function isClusterConnection(client: Redis): boolean {
  return (client as unknown as { isCluster?: boolean }).isCluster === true;
}

/** Where the product's Redis is, safe for logs (no password). */
export function describeRedis(config: RedisConfig): string {
  const mode = redisMode(config);
  if (mode === 'sentinel') return `sentinel ${config.REDIS_SENTINEL_NAME ?? 'mymaster'} via ${config.REDIS_SENTINELS!.map((s) => `${s.host}:${s.port}`).join(',')}`;
  if (mode === 'cluster') return `cluster ${config.REDIS_CLUSTER_NODES!.map((s) => `${s.host}:${s.port}`).join(',')}`;
  return describeRedisUrl(config.REDIS_URL);
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

/** A write the primary took but no replica confirmed in time: after a failover it may be gone. */
export class ReplicaAckError extends Error {
  override name = 'ReplicaAckError';
}

/** Hash slot of each install's key tag, asked once per tag (CLUSTER KEYSLOT). */
const slotOfKey = new Map<string, number>();

/**
 * The connection that made this install's writes: the client itself, or in a Cluster the connection
 * to the master owning `slotKey`'s slot (WAIT counts only the writes of the connection it is sent on).
 */
async function writingConnection(client: Redis, slotKey: string): Promise<Redis> {
  if (!isClusterConnection(client)) return client;
  const cluster = client as unknown as Cluster;
  let slot = slotOfKey.get(slotKey);
  if (slot === undefined) {
    slot = Number(await cluster.call('CLUSTER', 'KEYSLOT', slotKey));
    slotOfKey.set(slotKey, slot);
  }
  const owner = cluster.slots[slot]?.[0];
  const node = cluster.nodes('master').find((n) => `${n.options.host}:${n.options.port}` === owner);
  if (!node) throw new ReplicaAckError(`no master known for slot ${slot}; the cluster may be failing over`);
  return node;
}

/** How many replicas must confirm a write: a number, or `all` (every replica the primary has now, at least one). */
export type AckPolicy = number | 'all';

export function ackEnabled(policy: AckPolicy): boolean {
  return policy === 'all' || policy > 0;
}

/** The replica count `all` stands for, asked again at most this often per connection (INFO replication). */
const REPLICA_COUNT_TTL_MS = 2_000;
/**
 * How long a replica that left is still waited for. During SENTINEL FAILOVER the promoted replica
 * leaves the old primary a moment before the old primary is demoted; counting only the replicas left
 * would acknowledge a write that only the other replica holds, and that one resyncs from the new
 * primary and drops it. A replica that really died stops being waited for after this grace.
 */
export const REPLICA_LEAVE_GRACE_MS = 15_000;
interface ReplicaCount {
  /** Most replicas seen within the grace, and when that many were last seen. */
  peak: number;
  peakAt: number;
  at: number;
}
const replicaCounts = new WeakMap<Redis, ReplicaCount>();

async function replicasToWaitFor(conn: Redis, policy: AckPolicy): Promise<number> {
  if (policy !== 'all') return policy;
  const now = Date.now();
  const known = replicaCounts.get(conn);
  if (known && now - known.at < REPLICA_COUNT_TTL_MS) return known.peak;
  // At least one: with none connected the write is not safe, and WAIT 1 says so.
  const seen = Math.max(1, await connectedReplicas(conn));
  const next: ReplicaCount =
    !known || seen >= known.peak || now - known.peakAt > REPLICA_LEAVE_GRACE_MS ? { peak: seen, peakAt: now, at: now } : { ...known, at: now };
  replicaCounts.set(conn, next);
  return next.peak;
}

/**
 * Waits until the replicas `policy` asks for have every write this connection made (WAIT), so an
 * acknowledged job survives a failover. Throws ReplicaAckError when fewer confirm within `timeoutMs`.
 * In Cluster mode WAIT goes to the master owning `slotKey` (any key of the install: they share one slot).
 */
export async function confirmReplicated(client: Redis, policy: AckPolicy, timeoutMs: number, slotKey?: string): Promise<void> {
  if (!ackEnabled(policy)) return;
  if (isClusterConnection(client) && !slotKey) throw new Error('confirmReplicated on a Cluster needs a key of the install');
  const conn = await writingConnection(client, slotKey ?? '');
  const replicas = await replicasToWaitFor(conn, policy);
  const got = await conn.wait(replicas, timeoutMs);
  if (got < replicas) throw new ReplicaAckError(`write not confirmed by a replica within ${timeoutMs} ms (${got} of ${replicas}); a failover may be under way`);
}

/**
 * Replicas the primary has now. A 202 is safe across a failover only if every replica confirmed it:
 * Sentinel may promote one that did not, and the others then resync from it and drop the write.
 */
export async function connectedReplicas(client: Redis): Promise<number> {
  return Number(/connected_slaves:(\d+)/.exec(await client.info('replication'))?.[1] ?? 0);
}

/**
 * REDIS_ACK_REPLICAS; by default `all` under Sentinel (every replica may be the one promoted) and 0
 * otherwise (on a Cluster, set it to the replicas per master).
 */
export function ackReplicas(config: RedisConfig & Partial<Pick<Config, 'REDIS_ACK_REPLICAS'>>): AckPolicy {
  return config.REDIS_ACK_REPLICAS ?? (redisMode(config) === 'sentinel' ? 'all' : 0);
}

/** Deletes every key under `<prefix>:` with SCAN + UNLINK, so a shared Redis is never blocked (tests, bench, drills). */
export async function deleteKeysByPrefix(client: Redis, prefix: string): Promise<void> {
  const cluster = isClusterConnection(client);
  const nodes = cluster ? (client as unknown as Cluster).nodes('master') : [client];
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 5000);
      cursor = next;
      // One UNLINK per key: in a Cluster a multi-key UNLINK must not span slots.
      if (keys.length) await (cluster ? Promise.all(keys.map((key) => client.unlink(key))) : client.unlink(...keys));
    } while (cursor !== '0');
  }
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

import { Redis } from 'ioredis';
import { ackReplicas, confirmReplicated, connectedReplicas, REPLICA_LEAVE_GRACE_MS, ReplicaAckError } from '../../src/core/index.ts';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { confirmJobStart, writeConfirmed, type ReplicaGuardDeps } from '../../src/tasks/replica-guard.ts';
import { startRedisServer, type RedisProcess } from '../support/redis-deployments.ts';
import { silentLogger, waitFor } from '../support/redis-test-env.ts';

/**
 * The workers' replica guards against a real primary and replica: a job start is confirmed only while
 * the lock is this worker's and a replica has it; another worker's lock, or none, means the job was
 * lost in a failover; with the replica gone the guards give up after their budget and say so.
 */
let primary: RedisProcess;
let replica: RedisProcess;
let redis: Redis;
const deps = (over: Partial<ReplicaGuardDeps> = {}): ReplicaGuardDeps => ({ redis, slotKey: 'g', replicas: 1, ackTimeoutMs: 200, lockMs: 30_000, logger: silentLogger, budgetMs: 1_000, ...over });

beforeAll(async () => {
  primary = await startRedisServer();
  replica = await startRedisServer(['--replicaof', '127.0.0.1', String(primary.port)]);
  redis = new Redis({ port: primary.port, host: '127.0.0.1', maxRetriesPerRequest: null });
  const onReplica = new Redis({ port: replica.port, host: '127.0.0.1' });
  await waitFor(async () => /master_link_status:up/.test(await onReplica.info('replication')), 20_000, 100);
  onReplica.disconnect();
});

afterAll(async () => {
  redis?.disconnect();
  await Promise.all([primary?.stop(), replica?.stop()]);
});

describe('replica guards', () => {
  it('confirms a start whose lock is ours, extending the lock, and says lost for another worker’s lock or none', async () => {
    await redis.set('g:job-1:lock', 'token-a', 'PX', 5_000);
    expect(await confirmJobStart(deps(), 'g:job-1:lock', 'token-a')).toBe('confirmed');
    expect(await redis.pttl('g:job-1:lock')).toBeGreaterThan(5_000);
    expect(await confirmJobStart(deps(), 'g:job-1:lock', 'token-b')).toBe('lost');
    expect(await confirmJobStart(deps({ budgetMs: 300 }), 'g:job-2:lock', 'token-a')).toBe('lost');
    // Without replicas to confirm the guard is not asked at all.
    expect(await confirmJobStart(deps({ replicas: 0 }), 'g:job-2:lock', 'token-a')).toBe('confirmed');
  });

  it('confirms a write a replica holds', async () => {
    expect(await connectedReplicas(redis)).toBe(1);
    const got = await writeConfirmed(deps(), 'the analysis', async () => redis.set('g:analysis', 'x', 'NX'));
    expect(got).toEqual({ value: 'OK', confirmed: true });
    const onReplica = new Redis({ port: replica.port, host: '127.0.0.1' });
    expect(await onReplica.get('g:analysis')).toBe('x');
    onReplica.disconnect();
  });

  it('`all` (the default under Sentinel) waits for every replica the primary has, not just one', async () => {
    expect(ackReplicas({ REDIS_URL: 'redis://x', REDIS_SENTINELS: 'h:26379', REDIS_SENTINEL_NAME: 'm' } as never)).toBe('all');
    const second = await startRedisServer(['--replicaof', '127.0.0.1', String(primary.port)]);
    try {
      await waitFor(async () => ((await redis.info('replication')).match(/state=online/g) ?? []).length === 2, 20_000, 100);
      await redis.set('g:both', '1');
      await confirmReplicated(redis, 'all', 2_000);
      // One replica stops answering: one confirmation is still there, `all` is not.
      second.proc.kill('SIGSTOP');
      await redis.set('g:one', '1');
      await confirmReplicated(redis, 1, 2_000);
      // The replica count `all` stands for is cached for 2 s: ask after it expired too.
      await new Promise((r) => setTimeout(r, 2_100));
      await expect(confirmReplicated(redis, 'all', 300)).rejects.toBeInstanceOf(ReplicaAckError);
    } finally {
      second.proc.kill('SIGCONT');
      await second.stop();
    }
    await waitFor(async () => (await connectedReplicas(redis)) === 1, 20_000, 100);
  });

  it('`all` keeps waiting for a replica that left, for a grace, so a switch in progress cannot lower the count', async () => {
    // A connection of its own: the count `all` stands for is remembered per connection.
    const conn = new Redis({ port: primary.port, host: '127.0.0.1', maxRetriesPerRequest: null });
    const second = await startRedisServer(['--replicaof', '127.0.0.1', String(primary.port)]);
    try {
      await waitFor(async () => ((await conn.info('replication')).match(/state=online/g) ?? []).length === 2, 20_000, 100);
      await conn.set('g:peak', '1');
      await confirmReplicated(conn, 'all', 2_000);
      // The replica leaves the primary, as the promoted one does during SENTINEL FAILOVER.
      await second.stop();
      await waitFor(async () => (await connectedReplicas(conn)) === 1, 20_000, 100);
      await new Promise((r) => setTimeout(r, 2_100));
      await conn.set('g:peak', '2');
      await expect(confirmReplicated(conn, 'all', 300)).rejects.toBeInstanceOf(ReplicaAckError);
      // Past the grace the replica is taken to be gone: the one left is enough again.
      const later = Date.now() + REPLICA_LEAVE_GRACE_MS + 3_000;
      const clock = vi.spyOn(Date, 'now').mockImplementation(() => later);
      try {
        await confirmReplicated(conn, 'all', 2_000);
      } finally {
        clock.mockRestore();
      }
    } finally {
      await second.stop();
      conn.disconnect();
    }
  });

  it('gives up after its budget once no replica confirms, saying so', async () => {
    await replica.stop();
    await waitFor(async () => (await connectedReplicas(redis)) === 0, 20_000, 100);
    await redis.set('g:job-3:lock', 'token-a', 'PX', 30_000);
    const health = { degraded: false };
    expect(await confirmJobStart(deps({ health }), 'g:job-3:lock', 'token-a')).toBe('unconfirmed');
    expect(health.degraded).toBe(true);
    // Degraded: the next guard tries once instead of waiting its budget again (a budget it could not end within).
    expect(await confirmJobStart(deps({ health, budgetMs: 60_000 }), 'g:job-3:lock', 'token-a')).toBe('unconfirmed');
    let writes = 0;
    const got = await writeConfirmed(deps(), 'the analysis', async () => (writes++, redis.set('g:analysis-2', 'y', 'NX')));
    expect(await writeConfirmed(deps({ health, budgetMs: 60_000 }), 'the analysis', async () => redis.set('g:analysis-3', 'z', 'NX'))).toEqual({ value: 'OK', confirmed: false });
    expect(got.confirmed).toBe(false);
    expect(writes).toBeGreaterThan(1);
    expect(await redis.get('g:analysis-2')).toBe('y');
  });
});

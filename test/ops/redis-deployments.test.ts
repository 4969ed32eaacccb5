import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis, type Cluster } from 'ioredis';
import request from 'supertest';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ConfigError,
  closeQueues,
  confirmReplicated,
  createRedisConnection,
  deleteKeysByPrefix,
  loadConfig,
  openQueues,
  productKeys,
  ReplicaAckError,
  type Config,
} from '../../src/core/index.ts';
import { createApp } from '../../src/dashboard/index.ts';
import { startScheduler } from '../../src/scheduler/index.ts';
import { startWorkers } from '../../src/tasks/index.ts';
import { freePort, makeTlsMaterial, startClusterDeployment, startRedisServer, startSentinelDeployment, type RedisProcess } from '../support/redis-deployments.ts';
import { silentLogger, waitFor } from '../support/redis-test-env.ts';
import { runCycle } from '../support/test-cycle.ts';

/**
 * The product against real Redis deployments these tests start themselves on loopback: an ACL user,
 * TLS with a private CA and client certificates, a Sentinel-watched primary with a failover, and a
 * 3-master Cluster running scheduler, worker and API.
 */
const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

const base = (env: Record<string, string>): Config =>
  loadConfig({ LOG_LEVEL: 'silent', MARKET_DATA: 'simulated', QUEUE_PREFIX: `test-deploy-${randomBytes(3).toString('hex')}`, ...env });

/** Resolves to the connection once ready, or to the error that kept it from being ready. */
async function readiness(config: Config): Promise<{ ok: boolean; error?: string }> {
  const r = createRedisConnection(config, 'producer');
  let lastError = '';
  r.on('error', (err: Error) => (lastError = err.message));
  try {
    const ok = await waitFor(async () => r.status === 'ready', 4_000).then(() => true, () => false);
    return ok && (await r.ping()) === 'PONG' ? { ok } : { ok: false, error: lastError };
  } finally {
    r.disconnect();
  }
}

async function roundTrip(config: Config): Promise<string> {
  const r = createRedisConnection(config, 'worker');
  try {
    const key = `${config.QUEUE_PREFIX}:probe`;
    await r.set(key, 'ok', 'EX', 60);
    return (await r.get(key)) ?? '';
  } finally {
    r.disconnect();
  }
}

async function started(p: Promise<RedisProcess>): Promise<RedisProcess> {
  const proc = await p;
  cleanups.push(() => proc.stop());
  return proc;
}

describe('ACL user and password', () => {
  it('logs in as an ACL user from REDIS_USERNAME/REDIS_PASSWORD or the URL, and a wrong password never becomes ready', async () => {
    const acl = ['--user', 'default', 'off', '--user', 'tradeloop', 'on', '>s3cret-pass', '~*', '&*', '+@all'];
    const server = await started(startRedisServer(acl, { username: 'tradeloop', password: 's3cret-pass' }));
    const url = `redis://127.0.0.1:${server.port}`;
    expect(await roundTrip(base({ REDIS_URL: url, REDIS_USERNAME: 'tradeloop', REDIS_PASSWORD: 's3cret-pass' }))).toBe('ok');
    expect(await roundTrip(base({ REDIS_URL: `redis://tradeloop:s3cret-pass@127.0.0.1:${server.port}` }))).toBe('ok');
    const wrong = await readiness(base({ REDIS_URL: url, REDIS_USERNAME: 'tradeloop', REDIS_PASSWORD: 'wrong-password' }));
    expect(wrong.ok).toBe(false);
    expect(wrong.error).toMatch(/WRONGPASS|invalid username-password/i);
    const none = await readiness(base({ REDIS_URL: url }));
    expect(none.ok).toBe(false);
  });
});

describe('TLS (rediss://) with a private CA and client certificates', () => {
  it('connects with REDIS_TLS_CA + client cert, and refuses without the CA or without the client cert', async () => {
    const tls = await makeTlsMaterial();
    cleanups.push(async () => rmSync(tls.dir, { recursive: true, force: true }));
    const tlsPort = await freePort();
    const args = ['--port', '0', '--tls-port', String(tlsPort), '--tls-cert-file', tls.serverCert, '--tls-key-file', tls.serverKey, '--tls-ca-cert-file', tls.ca, '--tls-auth-clients', 'yes'];
    await started(
      startRedisServer(args, { port: tlsPort, tls: { ca: readFileSync(tls.ca), cert: readFileSync(tls.clientCert), key: readFileSync(tls.clientKey) } }, tlsPort),
    );
    const url = `rediss://127.0.0.1:${tlsPort}`;
    expect(await roundTrip(base({ REDIS_URL: url, REDIS_TLS_CA: tls.ca, REDIS_TLS_CERT: tls.clientCert, REDIS_TLS_KEY: tls.clientKey }))).toBe('ok');
    const noCa = await readiness(base({ REDIS_URL: url, REDIS_TLS_CERT: tls.clientCert, REDIS_TLS_KEY: tls.clientKey }));
    expect(noCa.ok).toBe(false);
    expect(noCa.error).toMatch(/self[- ]signed|unable to (get|verify)|certificate/i);
    const noClientCert = await readiness(base({ REDIS_URL: url, REDIS_TLS_CA: tls.ca }));
    expect(noClientCert.ok).toBe(false);
  });

  it('names a missing certificate file and a certificate without its key', () => {
    expect(() => loadConfig({ REDIS_TLS_CA: '/nonexistent/ca.pem' })).toThrow(/REDIS_TLS_CA.*file not found/);
    const dir = mkdtempSync(join(tmpdir(), 'tl-tlscfg-'));
    writeFileSync(join(dir, 'c.pem'), 'x');
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    expect(() => loadConfig({ REDIS_TLS_CERT: join(dir, 'c.pem') })).toThrow(/REDIS_TLS_KEY.*go together/);
  });
});

describe('Sentinel', () => {
  it('finds the primary through the sentinel (both passwords), and follows SENTINEL FAILOVER without a restart', async () => {
    const d = await startSentinelDeployment();
    cleanups.push(() => d.stop());
    const config = base({
      REDIS_URL: 'redis://127.0.0.1:6379',
      REDIS_SENTINELS: `127.0.0.1:${d.sentinel.port}`,
      REDIS_SENTINEL_NAME: d.name,
      REDIS_SENTINEL_PASSWORD: d.sentinelPassword,
      REDIS_PASSWORD: d.password,
    });
    const worker = createRedisConnection(config, 'worker');
    const producer = createRedisConnection(config, 'producer');
    cleanups.push(async () => (worker.disconnect(), producer.disconnect()));
    const port = async (r: typeof worker) => Number(/tcp_port:(\d+)/.exec(await r.info('server'))![1]);
    await waitFor(async () => producer.status === 'ready', 10_000);
    expect(await port(worker)).toBe(d.primary.port);
    const queues = openQueues(worker, config.QUEUE_PREFIX);
    cleanups.push(() => closeQueues(queues));
    await queues['trading-cycle'].add('probe', { n: 1 }, { jobId: 'before' });

    const { from, to } = await d.failover();
    expect([from, to]).toEqual([d.primary.port, d.replica.port]);
    // The same connections, no restart: writes land on the promoted replica.
    await waitFor(async () => (await port(worker)) === d.replica.port && /role:master/.test(await worker.info('replication')), 20_000, 200);
    await queues['trading-cycle'].add('probe', { n: 2 }, { jobId: 'after' });
    await waitFor(async () => producer.status === 'ready' && (await port(producer)) === d.replica.port, 20_000, 200);
    expect((await queues['trading-cycle'].getJob('before'))?.data).toEqual({ n: 1 });
    expect((await queues['trading-cycle'].getJob('after'))?.data).toEqual({ n: 2 });
  });

  it('rejects a bad sentinel list and both modes at once, naming the variable', () => {
    expect(() => loadConfig({ REDIS_SENTINELS: 'nohost' })).toThrow(/REDIS_SENTINELS.*host:port/);
    expect(() => loadConfig({ REDIS_SENTINELS: '127.0.0.1:1', REDIS_CLUSTER_NODES: '127.0.0.1:2', QUEUE_PREFIX: '{x}' })).toThrow(/REDIS_CLUSTER_NODES.*not both/);
  });
});

describe('Redis Cluster', () => {
  it('refuses a prefix without a {hash tag} in Cluster mode', () => {
    let caught: unknown;
    try {
      loadConfig({ REDIS_CLUSTER_NODES: '127.0.0.1:7000', QUEUE_PREFIX: 'tradeloop' });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect(String(caught)).toMatch(/QUEUE_PREFIX.*\{tradeloop\}/);
    expect(loadConfig({ QUEUE_PREFIX: '{tradeloop}' }).QUEUE_PREFIX).toBe('{tradeloop}');
    expect(() => loadConfig({ QUEUE_PREFIX: '{a}{b}' })).toThrow(/QUEUE_PREFIX/);
  });

  it('runs scheduler, worker and API on 3 masters with every key of the install in one slot', async () => {
    const cluster = await startClusterDeployment();
    cleanups.push(() => cluster.stop());
    const dir = mkdtempSync(join(tmpdir(), 'tl-cluster-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'schedules.yaml');
    writeFileSync(file, 'schedules:\n  - { id: beat, agent: quant, ticker: SPY, every: 1s, market_hours: always }\n');
    const tag = `tl-${randomBytes(3).toString('hex')}`;
    const config = base({ REDIS_CLUSTER_NODES: cluster.nodeList, QUEUE_PREFIX: `{${tag}}`, SCHEDULES_FILE: file, RESULTS_DIR: join(dir, 'results'), WORKER_HEARTBEAT_MS: '500' });
    const scheduler = await startScheduler(config, silentLogger, { tickMs: 300, watchdogMs: 1_000 });
    const workers = await startWorkers(config, silentLogger, { runCycle, sandbox: false, concurrency: 2 });
    let running = true;
    const stopServices = async () => {
      if (running) await Promise.all([scheduler.stop(), workers.stop()]);
      running = false;
    };
    cleanups.push(stopServices);
    const producer = createRedisConnection(config, 'producer');
    const queues = openQueues(producer, config.QUEUE_PREFIX);
    cleanups.push(async () => (await closeQueues(queues), producer.disconnect()));
    await waitFor(async () => producer.status === 'ready', 10_000);
    const app = createApp({ config, logger: silentLogger, redis: producer, keys: productKeys(config.QUEUE_PREFIX), queues, now: () => new Date() });

    const posted = await request(app).post('/api/jobs').send({ ticker: 'NVDA' });
    expect(posted.status).toBe(202);
    const id = posted.body.job_id as string;
    await waitFor(async () => (await request(app).get(`/api/jobs/${id}`)).body.status === 'completed', 20_000, 200);
    const result = await request(app).get(`/api/jobs/${id}/result`);
    expect(result.status).toBe(200);
    expect(result.body.ticker).toBe('NVDA');
    // The 1 s schedule fired and its cycles completed through the product's scripts and transactions.
    await waitFor(async () => (await queues['trading-cycle'].getCompletedCount()) >= 2, 20_000, 200);
    const cancelled = await request(app).post('/api/jobs').send({ ticker: 'SLEEP50' });
    expect((await request(app).delete(`/api/jobs/${cancelled.body.job_id as string}`)).status).toBeLessThan(300);
    expect((await request(app).get('/readyz')).status).toBe(200);
    expect((await request(app).get('/api/jobs?limit=5')).body.jobs.length).toBeGreaterThan(0);

    await stopServices();
    // Every key the install wrote, on whichever master holds it, hashes to the tag's one slot.
    const admin = createRedisConnection(config, 'worker') as unknown as Cluster;
    cleanups.push(async () => admin.disconnect());
    await waitFor(async () => admin.status === 'ready', 10_000);
    expect(admin.nodes('master')).toHaveLength(3);
    const found: string[] = [];
    for (const node of admin.nodes('master')) {
      let cursor = '0';
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', '*', 'COUNT', 1000);
        cursor = next;
        found.push(...keys);
      } while (cursor !== '0');
    }
    const ours = found.filter((k) => k.startsWith(`{${tag}}:`));
    expect(ours.length).toBeGreaterThan(10);
    // The cluster is this test's own: any key outside the prefix would be a key in another slot.
    expect(found.filter((k) => !k.startsWith(`{${tag}}:`))).toEqual([]);
    const slots = new Set(await Promise.all(ours.map((k) => admin.call('CLUSTER', 'KEYSLOT', k))));
    expect(slots.size).toBe(1);
    expect([...slots][0]).toBe(await admin.call('CLUSTER', 'KEYSLOT', tag));
    await deleteKeysByPrefix(admin as never, config.QUEUE_PREFIX);
    const left = await Promise.all(admin.nodes('master').map((n) => n.scan('0', 'MATCH', `{${tag}}:*`, 'COUNT', 10_000)));
    expect(left.flatMap(([, keys]) => keys)).toEqual([]);
  }, 90_000);

  it('sends WAIT to the master owning the install\'s slot: a 202 waits for its replica, and a 503 once that replica is gone', async () => {
    const cluster = await startClusterDeployment({ replicas: 1 });
    cleanups.push(() => cluster.stop());
    const tag = `tl-${randomBytes(3).toString('hex')}`;
    const config = base({ REDIS_CLUSTER_NODES: cluster.nodeList, QUEUE_PREFIX: `{${tag}}`, REDIS_ACK_REPLICAS: '1' });
    const client = createRedisConnection(config, 'producer');
    const queues = openQueues(client, config.QUEUE_PREFIX);
    cleanups.push(async () => (await closeQueues(queues), client.disconnect()));
    await waitFor(async () => client.status === 'ready', 10_000);
    await client.set(`${config.QUEUE_PREFIX}:probe`, '1');
    await expect(confirmReplicated(client, 1, 2_000, config.QUEUE_PREFIX)).resolves.toBeUndefined();
    await expect(confirmReplicated(client, 2, 300, config.QUEUE_PREFIX)).rejects.toBeInstanceOf(ReplicaAckError);
    const app = createApp({ config, logger: silentLogger, redis: client, keys: productKeys(config.QUEUE_PREFIX), queues, now: () => new Date() });
    expect((await request(app).post('/api/jobs').send({ ticker: 'NVDA' })).status).toBe(202);

    // Stop the replica of the master that owns the slot; the other masters keep theirs.
    const slot = Number(await client.call('CLUSTER', 'KEYSLOT', tag));
    const ownerPort = Number((client as unknown as Cluster).slots[slot]![0]!.split(':')[1]);
    const plain = (port: number) => new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 1 });
    let replicaOfOwner: RedisProcess | undefined;
    for (const n of cluster.nodes) {
      const r = plain(n.port);
      if (new RegExp(`master_port:${ownerPort}\\b`).test(await r.info('replication'))) replicaOfOwner = n;
      r.disconnect();
    }
    expect(replicaOfOwner).toBeDefined();
    await replicaOfOwner!.stop();
    const owner = plain(ownerPort);
    cleanups.push(async () => owner.disconnect());
    await waitFor(async () => /connected_slaves:0/.test(await owner.info('replication')), 20_000, 200);
    await client.set(`${config.QUEUE_PREFIX}:probe`, '2');
    await expect(confirmReplicated(client, 1, 300, config.QUEUE_PREFIX)).rejects.toBeInstanceOf(ReplicaAckError);
    const refused = await request(app).post('/api/jobs').send({ ticker: 'NVDA' });
    expect(refused.status).toBe(503);
    expect(JSON.stringify(refused.body)).toMatch(/withdrawn/);
  }, 90_000);
});

import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis, type RedisOptions } from 'ioredis';

/**
 * Real Redis deployments on loopback for tests and drills: plain servers with ACL users and TLS, a
 * Sentinel-watched primary with a replica, and a 3-master Cluster. Every one gets free ports and a
 * temporary directory, and `stop()` kills every process it started and removes the directory.
 */

const run = promisify(execFile);

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

export interface RedisProcess {
  port: number;
  dir: string;
  proc: ChildProcess;
  stop(): Promise<void>;
}

async function until(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // not up yet
    }
    if (Date.now() > end) throw new Error(`${what} not ready within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function answers(options: RedisOptions): Promise<boolean> {
  const r = new Redis({ ...options, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  r.on('error', () => {});
  try {
    await r.connect();
    return (await r.ping()) === 'PONG';
  } finally {
    r.disconnect();
  }
}

/**
 * One redis-server. `args` are extra command-line options; `ping` says how to reach it for the
 * readiness check (defaults to plain TCP on the port without a password).
 */
export async function startRedisServer(args: string[] = [], ping: RedisOptions = {}, port?: number): Promise<RedisProcess> {
  const p = port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'tl-redis-'));
  const proc = spawn('redis-server', ['--port', String(p), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction', ...args], { stdio: 'ignore' });
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGKILL');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await until(() => answers({ port: p, host: '127.0.0.1', ...ping }), 10_000, `redis-server :${p}`);
  } catch (err) {
    await stop();
    throw err;
  }
  return { port: p, dir, proc, stop };
}

export interface SentinelDeployment {
  primary: RedisProcess;
  /** The first replica (`replicas[0]`). */
  replica: RedisProcess;
  replicas: RedisProcess[];
  /** The first sentinel (`sentinels[0]`). */
  sentinel: RedisProcess;
  sentinels: RedisProcess[];
  name: string;
  password: string;
  sentinelPassword: string;
  /** `host:port,…` of every sentinel, for REDIS_SENTINELS. */
  sentinelList: string;
  /** The port the sentinel currently names as the primary. */
  primaryPort(): Promise<number>;
  /** SENTINEL FAILOVER; resolves once the sentinel names the other server. */
  failover(timeoutMs?: number): Promise<{ from: number; to: number }>;
  stop(): Promise<void>;
}

function startSentinel(conf: string, port: number, dir: string): RedisProcess {
  const proc = spawn('redis-server', [conf, '--sentinel'], { stdio: 'ignore' });
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  return {
    port,
    dir,
    proc,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGKILL');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const fieldsOf = (rows: string[][]) => rows.map((fields) => Object.fromEntries(fields.flatMap((v, i, a) => (i % 2 === 0 ? [[v, a[i + 1]]] : []))) as Record<string, string>);

/**
 * A password-protected primary with `replicas` replicas (default 1), watched by `sentinels` sentinels
 * (default 1; quorum is a majority of them), the sentinels with their own password.
 */
export async function startSentinelDeployment(opts: { downAfterMs?: number; replicas?: number; sentinels?: number } = {}): Promise<SentinelDeployment> {
  const name = 'tlmaster';
  const password = `pw-${Math.random().toString(36).slice(2, 10)}`;
  const sentinelPassword = `spw-${Math.random().toString(36).slice(2, 10)}`;
  const auth = ['--requirepass', password, '--masterauth', password];
  const started: RedisProcess[] = [];
  const stop = async () => {
    await Promise.all(started.map((p) => p.stop()));
  };
  const replicas: RedisProcess[] = [];
  const sentinels: RedisProcess[] = [];
  let primary: RedisProcess;
  const quorum = Math.floor((opts.sentinels ?? 1) / 2) + 1;
  try {
    primary = await startRedisServer(auth, { password });
    started.push(primary);
    for (let i = 0; i < (opts.replicas ?? 1); i++) {
      const r = await startRedisServer([...auth, '--replicaof', '127.0.0.1', String(primary.port)], { password });
      started.push(r);
      replicas.push(r);
    }
    for (let i = 0; i < (opts.sentinels ?? 1); i++) {
      const port = await freePort();
      const sdir = mkdtempSync(join(tmpdir(), 'tl-sentinel-'));
      const conf = join(sdir, 'sentinel.conf');
      writeFileSync(
        conf,
        [
          `port ${port}`,
          'bind 127.0.0.1',
          `dir ${sdir}`,
          `requirepass ${sentinelPassword}`,
          // Sentinels authenticate to each other with this password too.
          `sentinel sentinel-pass ${sentinelPassword}`,
          `sentinel monitor ${name} 127.0.0.1 ${primary.port} ${quorum}`,
          `sentinel auth-pass ${name} ${password}`,
          `sentinel down-after-milliseconds ${name} ${opts.downAfterMs ?? 2000}`,
          `sentinel failover-timeout ${name} 10000`,
          `sentinel parallel-syncs ${name} 1`,
          '',
        ].join('\n'),
      );
      const s = startSentinel(conf, port, sdir);
      started.push(s);
      sentinels.push(s);
    }
  } catch (err) {
    await stop();
    throw err;
  }
  const ask = async <T>(fn: (r: Redis) => Promise<T>, port = sentinels[0]!.port): Promise<T> => {
    const r = new Redis({ port, host: '127.0.0.1', password: sentinelPassword, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    r.on('error', () => {});
    try {
      await r.connect();
      return await fn(r);
    } finally {
      r.disconnect();
    }
  };
  const primaryPort = async () => Number(((await ask((r) => r.call('SENTINEL', 'get-master-addr-by-name', name))) as string[])[1]);
  try {
    // Ready when every sentinel knows every replica in sync and the other sentinels.
    await until(async () => {
      for (const s of sentinels) {
        const flat = fieldsOf((await ask((r) => r.call('SENTINEL', 'replicas', name), s.port)) as string[][]);
        const inSync = replicas.every((rep) => flat.some((f) => f['port'] === String(rep.port) && f['master-link-status'] === 'ok' && !String(f['flags']).includes('disconnected')));
        const others = ((await ask((r) => r.call('SENTINEL', 'sentinels', name), s.port)) as string[][]).length;
        if (!inSync || others < sentinels.length - 1) return false;
      }
      return true;
    }, 60_000, 'sentinel');
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    primary: primary!,
    replica: replicas[0]!,
    replicas,
    sentinel: sentinels[0]!,
    sentinels,
    name,
    password,
    sentinelPassword,
    sentinelList: sentinels.map((s) => `127.0.0.1:${s.port}`).join(','),
    primaryPort,
    async failover(timeoutMs = 30_000) {
      const from = await primaryPort();
      // A just-synced replica may not have the sentinel's INFO refresh yet: retry NOGOODSLAVE briefly.
      await until(async () => (await ask((r) => r.call('SENTINEL', 'failover', name))) === 'OK', 15_000, 'SENTINEL FAILOVER accepted');
      let to = from;
      await until(async () => (to = await primaryPort()) !== from, timeoutMs, 'failover');
      return { from, to };
    },
    stop,
  };
}

export interface ClusterDeployment {
  nodes: RedisProcess[];
  /** `host:port,…` for REDIS_CLUSTER_NODES. */
  nodeList: string;
  stop(): Promise<void>;
}

/**
 * Three masters with `--cluster-enabled yes`, joined by `redis-cli --cluster create … --cluster-yes`;
 * with `replicas: 1`, each master gets a replica (six nodes), ready once every master has it in sync.
 */
export async function startClusterDeployment(opts: { replicas?: 0 | 1 } = {}): Promise<ClusterDeployment> {
  const nodes: RedisProcess[] = [];
  const replicas = opts.replicas ?? 0;
  const stop = async () => {
    await Promise.all(nodes.map((n) => n.stop()));
  };
  const info = async (n: RedisProcess, section: string[]) => {
    const r = new Redis({ port: n.port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    r.on('error', () => {});
    try {
      await r.connect();
      return String(await r.call(section[0]!, ...section.slice(1)));
    } finally {
      r.disconnect();
    }
  };
  try {
    for (let i = 0; i < 3 * (1 + replicas); i++) {
      const port = await freePort();
      nodes.push(await startRedisServer(['--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`, '--cluster-node-timeout', '5000'], {}, port));
    }
    await run('redis-cli', ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', String(replicas), '--cluster-yes']);
    await until(async () => {
      const infos = await Promise.all(nodes.map((n) => info(n, ['CLUSTER', 'INFO'])));
      if (!infos.every((i) => i.includes('cluster_state:ok'))) return false;
      if (!replicas) return true;
      const repl = await Promise.all(nodes.map((n) => info(n, ['INFO', 'replication'])));
      const masters = repl.filter((r) => r.includes('role:master'));
      return masters.length === 3 && masters.every((r) => /connected_slaves:1/.test(r) && /state=online/.test(r));
    }, 60_000, 'cluster');
  } catch (err) {
    await stop();
    throw err;
  }
  return { nodes, nodeList: nodes.map((n) => `127.0.0.1:${n.port}`).join(','), stop };
}

export interface TlsMaterial {
  dir: string;
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
}

/** A throwaway CA, a server certificate for 127.0.0.1/localhost and a client certificate, made with openssl. */
export async function makeTlsMaterial(): Promise<TlsMaterial> {
  const dir = mkdtempSync(join(tmpdir(), 'tl-tls-'));
  const f = (n: string) => join(dir, n);
  const ssl = (...args: string[]) => run('openssl', args);
  await ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('ca.key'), '-out', f('ca.crt'), '-days', '2', '-subj', '/CN=tradeloop test CA');
  writeFileSync(f('server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  for (const who of ['server', 'client']) {
    await ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', f(`${who}.key`), '-out', f(`${who}.csr`), '-subj', `/CN=tradeloop test ${who}`);
    await ssl('x509', '-req', '-in', f(`${who}.csr`), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f(`${who}.crt`), '-days', '2', ...(who === 'server' ? ['-extfile', f('server.ext')] : []));
  }
  return { dir, ca: f('ca.crt'), serverCert: f('server.crt'), serverKey: f('server.key'), clientCert: f('client.crt'), clientKey: f('client.key') };
}

import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, chmodSync, constants, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { delimiter, join, resolve } from 'node:path';

export class RedisNotInstalledError extends Error {
  override name = 'RedisNotInstalledError';
  constructor() {
    super(
      [
        'No Redis is reachable at redis://127.0.0.1:6379 and no `redis-server` binary is on PATH, so tradeloop cannot start one.',
        'Install Redis (6.2 or newer), then run `npm start` again:',
        '  Debian/Ubuntu:  sudo apt-get install -y redis-server',
        '  macOS:          brew install redis',
        '  Docker:         docker run -d --name tradeloop-redis -p 6379:6379 redis:7 --appendonly yes --maxmemory-policy noeviction',
        'Or point tradeloop at an existing Redis:  REDIS_URL=redis://host:6379 npm start',
      ].join('\n'),
    );
  }
}

export interface RedisChoice {
  url: string;
  /** Set when we started (or adopted) a private redis-server that we must stop on exit. */
  embedded: EmbeddedRedis | null;
}

export interface EmbeddedRedis {
  pid: number;
  port: number;
  stop(): Promise<void>;
}

/** Answers true when something at host:port speaks Redis (PING → +PONG) within the timeout. */
export function pingRedis(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((done) => {
    const socket = createConnection({ host, port });
    const finish = (ok: boolean) => {
      socket.destroy();
      done(ok);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.once('error', () => finish(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (buf) => finish(buf.toString().startsWith('+PONG') || buf.toString().startsWith('-NOAUTH')));
  });
}

export function findOnPath(binary: string, pathEnv = process.env.PATH ?? ''): string | null {
  for (const dir of pathEnv.split(delimiter).filter(Boolean)) {
    const candidate = join(dir, binary);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

async function freePort(preferred: number): Promise<number> {
  const tryPort = (port: number) =>
    new Promise<number | null>((r) => {
      const srv = createServer();
      srv.once('error', () => r(null));
      srv.listen(port, '127.0.0.1', () => {
        const got = (srv.address() as { port: number }).port;
        srv.close(() => r(got));
      });
    });
  return (await tryPort(preferred)) ?? (await tryPort(0))!;
}

/**
 * The private server's password: generated once, kept in `<dataDir>/password` (0600, owner only), so
 * other users of a shared host cannot reach our Redis even on loopback.
 */
export function embeddedRedisPassword(dataDir: string): string {
  const file = join(resolve(dataDir), 'password');
  if (existsSync(file)) {
    chmodSync(file, 0o600);
    return readFileSync(file, 'utf8').trim();
  }
  mkdirSync(resolve(dataDir), { recursive: true, mode: 0o700 });
  const password = randomBytes(24).toString('hex');
  writeFileSync(file, `${password}\n`, { mode: 0o600 });
  return password;
}

/** The URL of a private Redis started by `npm start` in this directory, or null when none runs. */
export function embeddedRedisUrl(dataDir: string): string | null {
  const stateFile = join(resolve(dataDir), 'embedded.json');
  if (!existsSync(stateFile)) return null;
  const { port } = JSON.parse(readFileSync(stateFile, 'utf8')) as { port: number };
  const passwordFile = join(resolve(dataDir), 'password');
  const password = existsSync(passwordFile) ? readFileSync(passwordFile, 'utf8').trim() : '';
  return password ? `redis://:${password}@127.0.0.1:${port}` : `redis://127.0.0.1:${port}`;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Decides which Redis `npm start` uses: REDIS_URL when set; else one already listening on the default
 * address; else a private redis-server started from PATH (own port, data under `dataDir`, append-only,
 * noeviction) — or one we started earlier and that is still running.
 */
export async function chooseRedis(opts: {
  env: NodeJS.ProcessEnv;
  dataDir: string;
  log: (msg: string) => void;
  /** The address probed before starting a private server (tests use a closed port). */
  defaultPort?: number;
}): Promise<RedisChoice> {
  if (opts.env.REDIS_URL) return { url: opts.env.REDIS_URL, embedded: null };
  const defaultPort = opts.defaultPort ?? 6379;
  if (await pingRedis('127.0.0.1', defaultPort)) return { url: `redis://127.0.0.1:${defaultPort}`, embedded: null };

  const dataDir = resolve(opts.dataDir);
  const stateFile = join(dataDir, 'embedded.json');
  if (existsSync(stateFile)) {
    // A private Redis left by an earlier run that did not exit cleanly: adopt it rather than start a second one on the same files.
    const state = JSON.parse(readFileSync(stateFile, 'utf8')) as { pid: number; port: number };
    if (processAlive(state.pid) && (await pingRedis('127.0.0.1', state.port))) {
      opts.log(`reusing private redis-server (pid ${state.pid}) on port ${state.port}`);
      return { url: embeddedRedisUrl(dataDir)!, embedded: handle(null, state.pid, state.port, stateFile) };
    }
    rmSync(stateFile, { force: true });
  }

  const binary = findOnPath('redis-server', opts.env.PATH);
  if (!binary) throw new RedisNotInstalledError();
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const password = embeddedRedisPassword(dataDir);
  // The password goes in a 0600 config file, never on the command line (where `ps` shows it to everyone).
  const confFile = join(dataDir, 'redis.conf');
  writeFileSync(confFile, `requirepass ${password}\n`, { mode: 0o600 });
  chmodSync(confFile, 0o600);
  const port = await freePort(6380);
  const child = spawn(
    binary,
    [
      confFile,
      '--port', String(port),
      '--bind', '127.0.0.1',
      '--dir', dataDir,
      '--appendonly', 'yes',
      '--appendfsync', 'everysec',
      '--maxmemory-policy', 'noeviction',
      '--save', '',
      '--daemonize', 'no',
      '--logfile', join(dataDir, 'redis.log'),
    ],
    // Own process group: a Ctrl-C in the terminal must not stop Redis before the workers have finished.
    { stdio: 'ignore', detached: true },
  );
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  for (let i = 0; i < 100; i++) {
    if (await pingRedis('127.0.0.1', port, 200)) {
      writeFileSync(stateFile, JSON.stringify({ pid: child.pid, port }), { mode: 0o600 });
      opts.log(`started private redis-server (pid ${child.pid}) on port ${port}, data in ${dataDir}, password in ${join(dataDir, 'password')}`);
      return { url: `redis://:${password}@127.0.0.1:${port}`, embedded: handle(child, child.pid!, port, stateFile) };
    }
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  await exited;
  throw new Error(`redis-server did not start on port ${port}; see ${join(dataDir, 'redis.log')}`);
}

function handle(child: ChildProcess | null, pid: number, port: number, stateFile: string): EmbeddedRedis {
  return {
    pid,
    port,
    async stop() {
      // SIGTERM makes redis-server flush the append-only file and exit cleanly.
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        rmSync(stateFile, { force: true });
        return;
      }
      for (let i = 0; i < 100 && processAlive(pid); i++) await new Promise((r) => setTimeout(r, 50));
      if (processAlive(pid)) process.kill(pid, 'SIGKILL');
      child?.unref();
      rmSync(stateFile, { force: true });
    },
  };
}

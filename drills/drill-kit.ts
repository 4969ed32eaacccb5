import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import { join } from 'node:path';

/** Processes a drill started; all are killed when the drill ends, whatever happened. */
const started = new Set<ChildProcess>();

export function startProcess(script: string, env: Record<string, string>, args: string[] = []): ChildProcess & { output: string[] } {
  const child = spawn(process.execPath, [script, ...args], { env: { ...process.env, LOG_FORMAT: 'json', LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'] }) as ChildProcess & { output: string[] };
  child.output = [];
  child.stdout!.on('data', (c: Buffer) => child.output.push(c.toString()));
  child.stderr!.on('data', (c: Buffer) => child.output.push(c.toString()));
  started.add(child);
  child.once('exit', () => started.delete(child));
  return child;
}

export function killAll(): void {
  for (const c of started) c.kill('SIGKILL');
}

export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** A private append-only redis-server on its own port and directory (drills never touch the shared one). */
export async function privateRedis(): Promise<{ url: string; stop(): Promise<void>; start(): Promise<void> }> {
  const port = await freePort();
  const dir = mkdtempSync(join(os.tmpdir(), 'tl-drill-redis-'));
  let proc: ChildProcess | null = null;
  const start = async () => {
    proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always', '--save', '', '--maxmemory-policy', 'noeviction'], { stdio: 'ignore' });
    started.add(proc);
    await waitFor(async () => {
      try {
        const { Redis } = await import('ioredis');
        const r = new Redis({ port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
        r.on('error', () => {});
        await r.connect();
        const ok = (await r.ping()) === 'PONG';
        r.disconnect();
        return ok;
      } catch {
        return false;
      }
    }, 10_000);
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    start,
    async stop() {
      const p = proc;
      if (!p) return;
      p.kill('SIGTERM');
      await new Promise((r) => p.once('exit', r));
      started.delete(p);
      proc = null;
    },
  };
}

export async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs: number, everyMs = 100): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** CPU seconds a process has used (utime + stime from /proc). */
export function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

export function alive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The URL the dashboard logged it listens on. */
export async function dashboardUrl(proc: { output: string[] }, timeoutMs = 20_000): Promise<string> {
  let url = '';
  await waitFor(() => {
    url = /"url":"(http:\/\/[^"]+)"/.exec(proc.output.join(''))?.[1] ?? '';
    return url !== '';
  }, timeoutMs);
  if (!url) throw new Error(`dashboard did not start: ${proc.output.join('').slice(-500)}`);
  return url;
}

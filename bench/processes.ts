import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import type { Config } from '../src/core/index.ts';
import { NOOP, REDIS_URL, sleep, waitUntil } from './bench-context.ts';

/**
 * The product's processes as production runs them (PM2 starts each apart), driven from outside as
 * Celery's baseline drives its worker: the throughput legs' workers, the latency section's dashboard
 * and worker, and the memory section's worker and dashboard.
 */
export const envOf = (cfg: Config, extra: Record<string, string> = {}) => ({
  ...process.env, REDIS_URL, QUEUE_PREFIX: cfg.QUEUE_PREFIX, LOG_LEVEL: 'silent', CYCLE_MODULE: NOOP, RESULTS_DIR: cfg.RESULTS_DIR, WORKER_HEARTBEAT_MS: '1000', ...extra,
});

export async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await Promise.race([gone, sleep(15_000)]);
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });

/** `tradeloop dashboard` (bin/dashboard.mjs) on a free loopback port, answering before this resolves. */
export async function spawnDashboard(cfg: Config, extra: Record<string, string> = {}): Promise<{ child: ChildProcess; base: string }> {
  const port = await freePort();
  const child = spawn(process.execPath, ['bin/dashboard.mjs'], { env: envOf(cfg, { PORT: String(port), HOST: '127.0.0.1', ...extra }), stdio: 'ignore' });
  const base = `http://127.0.0.1:${port}`;
  try {
    await waitUntil(async () => {
      if (child.exitCode !== null) throw new Error(`the dashboard process exited (code ${child.exitCode})`);
      return (await fetch(`${base}/healthz`).catch(() => null))?.status !== undefined;
    }, 60_000, 200);
  } catch (err) {
    await stopProcess(child);
    throw err;
  }
  return { child, base };
}

/** `tradeloop worker` (bin/worker.mjs) on one queue: sandboxed (the default) or in process. */
export function spawnProductWorker(cfg: Config, opts: { queue: string; concurrency: number; sandbox: boolean; env?: Record<string, string> }): ChildProcess {
  return spawn(process.execPath, ['bin/worker.mjs', '--queues', opts.queue, '--concurrency', String(opts.concurrency)], {
    env: envOf(cfg, { WORKER_SANDBOX: opts.sandbox ? 'true' : 'false', ...opts.env }),
    stdio: 'ignore',
  });
}

/** A bare BullMQ worker process whose processor returns at once: the floor under any BullMQ worker. */
export function spawnBareWorker(cfg: Config, opts: { queue: string; concurrency: number }): ChildProcess {
  return spawn(process.execPath, ['bench/bare-worker.mjs'], {
    env: { ...process.env, REDIS_URL, BARE_PREFIX: cfg.QUEUE_PREFIX, BARE_QUEUE: opts.queue, BARE_CONCURRENCY: String(opts.concurrency) },
    stdio: 'ignore',
  });
}

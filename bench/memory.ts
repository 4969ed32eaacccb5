import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { closeQueues, CYCLE_JOB_NAME, createRedisConnection, cycleJobOptions, openQueues, productKeys } from '../src/core/index.ts';
import { readWorkers } from '../src/tasks/index.ts';
import { benchConfig, jobData, log, rssMbOf, sleep, waitUntil } from './bench-context.ts';
import { envOf, spawnDashboard, stopProcess } from './processes.ts';
import { round } from './bench-stats.ts';

/**
 * A worker process in the default sandbox mode, one slot, so one child runs every cycle (recycling
 * raised above the count here, to watch one child age; by default a child is replaced after
 * WORKER_MAX_JOBS_PER_CHILD cycles anyway). RSS of the worker and of its child after `small` and
 * `large` cycles.
 */
export async function workerMemory(opts: { small: number; large: number }) {
  const cfg = benchConfig();
  const child = spawn(process.execPath, ['bin/worker.mjs', '--queues', 'trading-cycle', '--concurrency', '1'], {
    env: envOf(cfg, { WORKER_MAX_JOBS_PER_CHILD: String(opts.large * 10) }),
    stdio: 'ignore',
  });
  const redis = createRedisConnection(cfg, 'worker');
  const keys = productKeys(cfg.QUEUE_PREFIX);
  const queues = openQueues(redis, cfg.QUEUE_PREFIX);
  const q = queues['trading-cycle'];
  const add = async (n: number) => {
    for (let i = 0; i < n; i += 1000) await q.addBulk(Array.from({ length: Math.min(1000, n - i) }, (_, k) => ({ name: CYCLE_JOB_NAME, data: jobData(k), opts: { ...cycleJobOptions('trading-cycle'), jobId: randomUUID() } })));
  };
  const drained = async () => (await q.getWaitingCount()) + (await q.getActiveCount()) === 0;
  const childPid = async () => (await readWorkers(redis, keys)).find((w) => w.pid === child.pid)?.sandbox_pids[0] ?? 0;
  await add(opts.small);
  await waitUntil(drained, 600_000, 100);
  await sleep(1200);
  const worker1 = rssMbOf(child.pid!);
  const child1 = rssMbOf(await childPid());
  await add(opts.large - opts.small);
  await waitUntil(drained, 1_200_000, 100);
  await sleep(1200);
  const worker2 = rssMbOf(child.pid!);
  const child2 = rssMbOf(await childPid());
  await stopProcess(child);
  await closeQueues(queues);
  redis.disconnect();
  const row = {
    cycles_small: opts.small,
    cycles_large: opts.large,
    worker_rss_mb_small: round(worker1),
    worker_rss_mb_large: round(worker2),
    worker_growth_ratio: round(worker2 / worker1, 3),
    child_rss_mb_small: round(child1),
    child_rss_mb_large: round(child2),
    child_growth_ratio: round(child2 / child1, 3),
  };
  log(`memory: worker ${row.worker_rss_mb_small} → ${row.worker_rss_mb_large} MB, child ${row.child_rss_mb_small} → ${row.child_rss_mb_large} MB (${opts.small} → ${opts.large} cycles)`);
  return row;
}

/** A dashboard process: RSS idle, with `clients` SSE clients connected, and after events flowed to all of them. */
export async function dashboardMemory(opts: { clients: number; events: number }) {
  const cfg = benchConfig();
  const { child: dash, base } = await spawnDashboard(cfg);
  await sleep(1000);
  const idle = rssMbOf(dash.pid!);
  let received = 0;
  const agent = new http.Agent({ keepAlive: true, maxSockets: opts.clients + 10 });
  const requests = Array.from({ length: opts.clients }, () =>
    http.get(`${base}/api/events`, { agent }, (res) => res.on('data', (chunk: Buffer) => (received += chunk.toString().split('event: ').length - 1))),
  );
  await sleep(1500);
  const connected = rssMbOf(dash.pid!);
  // Product events (relayed as they are) fan out to every client.
  const redis = createRedisConnection(cfg, 'worker');
  const keys = productKeys(cfg.QUEUE_PREFIX);
  for (let i = 0; i < opts.events; i++) await redis.publish(keys.eventsChannel, JSON.stringify({ type: 'schedule.changed', bench: true, at: new Date().toISOString(), i }));
  await waitUntil(() => received >= opts.clients * opts.events * 0.99, 60_000, 100).catch(() => undefined);
  await sleep(1000);
  const after = rssMbOf(dash.pid!);
  for (const r of requests) r.destroy();
  agent.destroy();
  redis.disconnect();
  await stopProcess(dash);
  const row = { sse_clients: opts.clients, events: opts.events, delivered: received, rss_mb_idle: round(idle), rss_mb_connected: round(connected), rss_mb_after_events: round(after) };
  log(`dashboard: ${row.rss_mb_idle} MB idle, ${row.rss_mb_connected} MB with ${opts.clients} SSE clients, ${row.rss_mb_after_events} MB after ${opts.events} events each (${received} delivered)`);
  return row;
}

import { QueueEvents } from 'bullmq';
import { benchConfig, log, REDIS_URL, waitUntil } from './bench-context.ts';
import { spawnDashboard, spawnProductWorker, stopProcess } from './processes.ts';
import { percentile, round } from './bench-stats.ts';
import { createRedisConnection } from '../src/core/index.ts';

const epochMs = () => performance.timeOrigin + performance.now();

/**
 * The machine's floor under any latency here: one Redis PING back to back (everything awake), and one
 * after 5 ms of nothing (as each hop of a lone request finds it: processes and CPUs asleep). A path of
 * n hops costs at least n times the second.
 */
export async function redisRoundTripFloor(url: string) {
  const redis = createRedisConnection({ REDIS_URL: url }, 'worker');
  const times = async (gapMs: number, n: number) => {
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      if (gapMs) await new Promise((r) => setTimeout(r, gapMs));
      const t0 = performance.now();
      await redis.ping();
      out.push(performance.now() - t0);
    }
    return out;
  };
  await times(0, 200);
  const hot = await times(0, 2000);
  const idle = await times(5, 400);
  redis.disconnect();
  return {
    redis_ping_hot_p50_ms: round(percentile(hot, 50), 3),
    redis_ping_hot_p99_ms: round(percentile(hot, 99), 3),
    redis_ping_after_idle_p50_ms: round(percentile(idle, 50), 3),
    redis_ping_after_idle_p99_ms: round(percentile(idle, 99), 3),
  };
}

/**
 * Sequential round trips, as the Celery baseline takes them (its client apart from its worker): POST
 * /api/jobs to a dashboard process, then the moment the cycle body starts (stamped by the no-op cycle
 * itself, in the sandbox child in the default mode) and the moment this process hears it completed.
 * The dashboard and the worker (default mode, 2 slots) are processes of their own, as PM2 runs them;
 * everything is warmed up first.
 */
export async function latency(opts: { roundtrips: number; sandbox?: boolean }) {
  const sandbox = opts.sandbox ?? true;
  const cfg = benchConfig();
  const queue = 'trading-cycle-priority';
  // A client allowance above the bench's rate: the round trips are measured, not the 429s.
  const dashboard = await spawnDashboard(cfg, { JOBS_PER_MINUTE: '100000' });
  const worker = spawnProductWorker(cfg, { queue, concurrency: 2, sandbox });
  const events = new QueueEvents(queue, { connection: createRedisConnection(cfg, 'worker'), prefix: cfg.QUEUE_PREFIX });
  const done = new Map<string, { at: number; started: number }>();
  const waiting = new Map<string, () => void>();
  events.on('completed', ({ jobId, returnvalue }) => {
    const value = (typeof returnvalue === 'string' ? JSON.parse(returnvalue) : returnvalue) as { result?: { indicators?: { started_ms?: number } } };
    done.set(jobId, { at: epochMs(), started: Number(value?.result?.indicators?.started_ms) });
    waiting.get(jobId)?.();
  });
  const toStart: number[] = [];
  const toDone: number[] = [];
  try {
    await events.waitUntilReady();
    const finished = (id: string) =>
      done.has(id) ? Promise.resolve() : Promise.race([new Promise<void>((r) => waiting.set(id, r)), waitUntil(() => done.has(id), 60_000, 100)]);
    const post = async () => {
      const res = await fetch(`${dashboard.base}/api/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ticker: 'SPY' }) });
      if (res.status !== 202) throw new Error(`POST /api/jobs answered ${res.status}: ${await res.text()}`);
      return ((await res.json()) as { job_id: string }).job_id;
    };
    // The first jobs wait for the worker and its children to come up.
    for (let i = 0; i < 20; i++) await finished(await post());
    for (let i = 0; i < opts.roundtrips; i++) {
      const t0 = epochMs();
      const id = await post();
      await finished(id);
      waiting.delete(id);
      const d = done.get(id)!;
      toStart.push(d.started - t0);
      toDone.push(d.at - t0);
    }
  } finally {
    await events.close();
    await stopProcess(worker);
    await stopProcess(dashboard.child);
  }
  const floor = await redisRoundTripFloor(REDIS_URL);
  const row = {
    mode: sandbox ? 'sandbox' : 'in-process',
    roundtrips: opts.roundtrips,
    enqueue_to_start_p50_ms: round(percentile(toStart, 50), 2),
    enqueue_to_start_p95_ms: round(percentile(toStart, 95), 2),
    enqueue_to_start_p99_ms: round(percentile(toStart, 99), 2),
    enqueue_to_completed_p50_ms: round(percentile(toDone, 50), 2),
    enqueue_to_completed_p99_ms: round(percentile(toDone, 99), 2),
    ...floor,
  };
  log(
    `latency (${row.mode}, dashboard and worker each a process): start p50 ${row.enqueue_to_start_p50_ms} / p99 ${row.enqueue_to_start_p99_ms} ms, completed p50 ${row.enqueue_to_completed_p50_ms} / p99 ${row.enqueue_to_completed_p99_ms} ms; ` +
      `Redis PING p50 / p99: ${floor.redis_ping_hot_p50_ms} / ${floor.redis_ping_hot_p99_ms} ms back to back, ${floor.redis_ping_after_idle_p50_ms} / ${floor.redis_ping_after_idle_p99_ms} ms after 5 ms idle`,
  );
  return row;
}

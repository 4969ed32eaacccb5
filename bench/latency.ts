import { Queue } from 'bullmq';
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
 * Sequential round trips, as the Celery baseline takes them (its client apart from its worker, its task
 * body pushing its start time to a list the client pops): POST /api/jobs to a dashboard process, then
 * the moment the cycle body starts (stamped and pushed by the no-op cycle itself, in the sandbox child
 * in the default mode), popped by this process. The dashboard and the worker (default mode, 2 slots) are
 * processes of their own, as PM2 runs them; everything is warmed up first. Afterwards the job hashes
 * say where the time went: when BullMQ added the job, when the worker took it, when it finished.
 */
export async function latency(opts: { roundtrips: number; sandbox?: boolean }) {
  const sandbox = opts.sandbox ?? true;
  const cfg = benchConfig();
  const queue = 'trading-cycle-priority';
  const replyKey = `${cfg.QUEUE_PREFIX}:bench:started`;
  // A client allowance above the bench's rate: the round trips are measured, not the 429s.
  const dashboard = await spawnDashboard(cfg, { JOBS_PER_MINUTE: '100000' });
  const worker = spawnProductWorker(cfg, { queue, concurrency: 2, sandbox, env: { BENCH_REPLY_KEY: replyKey, CYCLE_ENV_PASS: 'BENCH_REPLY_KEY' } });
  const redis = createRedisConnection(cfg, 'worker');
  const popper = createRedisConnection(cfg, 'worker');
  const jobs = new Queue(queue, { connection: redis, prefix: cfg.QUEUE_PREFIX });
  const sent: Array<{ id: string; at: number; started: number; popped: number }> = [];
  try {
    const post = async () => {
      const res = await fetch(`${dashboard.base}/api/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ticker: 'SPY' }) });
      if (res.status !== 202) throw new Error(`POST /api/jobs answered ${res.status}: ${await res.text()}`);
      return ((await res.json()) as { job_id: string }).job_id;
    };
    const started = async (id: string) => {
      // The first jobs wait for the worker and its children to come up.
      const got = await popper.blpop(replyKey, 60);
      const [jobId, at] = (got?.[1] ?? '').split(' ');
      if (jobId !== id) throw new Error(`waited for ${id}'s start, heard ${got ? jobId : 'nothing in 60 s'}`);
      return Number(at);
    };
    for (let i = 0; i < 20; i++) await started(await post());
    for (let i = 0; i < opts.roundtrips; i++) {
      const at = epochMs();
      const id = await post();
      const s = await started(id);
      sent.push({ id, at, started: s, popped: epochMs() });
    }
    await waitUntil(async () => (await jobs.getCompletedCount()) >= opts.roundtrips + 20, 30_000, 50);
  } finally {
    await stopProcess(worker);
    await stopProcess(dashboard.child);
  }
  const hashes = await Promise.all(sent.map((r) => jobs.getJob(r.id)));
  await jobs.close();
  redis.disconnect();
  popper.disconnect();
  const after = (pick: (r: (typeof sent)[number], i: number) => number) => sent.map(pick);
  const p = (xs: number[], q: number) => round(percentile(xs, q), 2);
  const toStart = after((r) => r.started - r.at);
  const toPopped = after((r) => r.popped - r.at);
  const toAdded = after((r, i) => (hashes[i]?.timestamp ?? NaN) - r.at);
  const toTaken = after((r, i) => (hashes[i]?.processedOn ?? NaN) - r.at);
  const toDone = after((r, i) => (hashes[i]?.finishedOn ?? NaN) - r.at);
  const floor = await redisRoundTripFloor(REDIS_URL);
  const row = {
    mode: sandbox ? 'sandbox' : 'in-process',
    roundtrips: opts.roundtrips,
    enqueue_to_start_p50_ms: p(toStart, 50),
    enqueue_to_start_p95_ms: p(toStart, 95),
    enqueue_to_start_p99_ms: p(toStart, 99),
    // What the Celery baseline calls completion seen: the client has the task body's reply.
    enqueue_to_reply_p50_ms: p(toPopped, 50),
    enqueue_to_reply_p99_ms: p(toPopped, 99),
    // The job finished in BullMQ: the analysis, the outcome and the job's completion are on record.
    enqueue_to_completed_p50_ms: p(toDone, 50),
    enqueue_to_completed_p99_ms: p(toDone, 99),
    // Where the time to start goes (p50 after the POST was sent): BullMQ added it, the worker took it.
    added_p50_ms: p(toAdded, 50),
    taken_p50_ms: p(toTaken, 50),
    ...floor,
  };
  log(
    `latency (${row.mode}, dashboard and worker each a process): start p50 ${row.enqueue_to_start_p50_ms} / p99 ${row.enqueue_to_start_p99_ms} ms (added ${row.added_p50_ms}, taken ${row.taken_p50_ms} at p50), reply p50 ${row.enqueue_to_reply_p50_ms} / p99 ${row.enqueue_to_reply_p99_ms} ms, completed p50 ${row.enqueue_to_completed_p50_ms} / p99 ${row.enqueue_to_completed_p99_ms} ms; ` +
      `Redis PING p50 / p99: ${floor.redis_ping_hot_p50_ms} / ${floor.redis_ping_hot_p99_ms} ms back to back, ${floor.redis_ping_after_idle_p50_ms} / ${floor.redis_ping_after_idle_p99_ms} ms after 5 ms idle`,
  );
  return row;
}

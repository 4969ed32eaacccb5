import { randomUUID } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { closeQueues, CYCLE_JOB_NAME, createRedisConnection, cycleJobOptions, openQueues, productKeys } from '../src/core/index.ts';
import { benchConfig, jobData, log, waitUntil } from './bench-context.ts';
import { spawnBareWorker, spawnProductWorker, stopProcess } from './processes.ts';
import { round } from './bench-stats.ts';
import { cpuMeter, processTree, redisScriptCalls } from './cpu-usage.ts';

/** A leg's rate and what each job cost in CPU, on this process tree and on Redis. */
interface Leg {
  perS: number;
  nodeUs: number;
  redisUs: number;
  /** Lua calls per job, the producer's add included: the round trips a job costs Redis beyond plain commands. */
  scripts: number;
}

export interface ThroughputOptions {
  n: number;
  concurrency: number[];
  /** Rounds per concurrency, legs interleaved (bare, in process, sandbox, then again): medians are reported. */
  rounds?: number;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** A leg's medians over its rounds, and how far its rates spread (max − min, % of the median). */
function medianLeg(legs: Leg[]): Leg & { spreadPct: number } {
  const rates = legs.map((l) => l.perS);
  const perS = median(rates);
  return { perS, nodeUs: median(legs.map((l) => l.nodeUs)), redisUs: median(legs.map((l) => l.redisUs)), scripts: median(legs.map((l) => l.scripts)), spreadPct: ((Math.max(...rates) - Math.min(...rates)) / perS) * 100 };
}

/** Jobs are sent in batches while the worker runs, as a producer at full speed would. */
const BATCH = 500;
const WARM_UP = 200;

/**
 * End to end, as the Celery baseline measures it (its run.sh reports the median of three runs; so do we, by default): the worker, a
 * process of its own as in production and in Celery's baseline, is started and warmed up first (its
 * sandbox children running), then the clock runs from the first send to the last job done, the
 * producer (this process) sending while the worker works, both on the same CPUs.
 * Legs: bare BullMQ (a processor returning at once), the product in process, the product in its
 * default sandbox mode. The product's producer writes the job index as enqueueCycle does.
 */
export async function throughput(opts: ThroughputOptions) {
  const rows: Array<Record<string, number | string>> = [];
  const rounds = Math.max(1, opts.rounds ?? 1);
  for (const c of opts.concurrency) {
    // Interleaved rounds: a slow minute of the machine hits every leg, not one; the medians are compared.
    const runs: Record<'bare' | 'inProcess' | 'sandbox', Leg[]> = { bare: [], inProcess: [], sandbox: [] };
    for (let r = 0; r < rounds; r++) {
      runs.bare.push(await bareLeg(opts.n, c));
      runs.inProcess.push(await productLeg(false, opts.n, c));
      runs.sandbox.push(await productLeg(true, opts.n, c));
    }
    const bare = medianLeg(runs.bare);
    const inProcess = medianLeg(runs.inProcess);
    const sandbox = medianLeg(runs.sandbox);
    rows.push({
      concurrency: c,
      jobs: opts.n,
      rounds,
      bare_jobs_per_s: round(bare.perS),
      in_process_jobs_per_s: round(inProcess.perS),
      sandbox_jobs_per_s: round(sandbox.perS),
      ratio_in_process_vs_bare: round(inProcess.perS / bare.perS, 3),
      ratio_sandbox_vs_bare: round(sandbox.perS / bare.perS, 3),
      // CPU per job (µs): the bench process with its threads and sandbox children (producer included, the same in
      // every leg), and the Redis server. Less sensitive than rates to what else the machine runs.
      bare_node_cpu_us: round(bare.nodeUs),
      in_process_node_cpu_us: round(inProcess.nodeUs),
      sandbox_node_cpu_us: round(sandbox.nodeUs),
      bare_redis_cpu_us: round(bare.redisUs),
      in_process_redis_cpu_us: round(inProcess.redisUs),
      sandbox_redis_cpu_us: round(sandbox.redisUs),
      // Lua calls per job, the producer's add included (bare BullMQ: its add and its finish-and-fetch-next).
      bare_scripts_per_job: round(bare.scripts, 2),
      in_process_scripts_per_job: round(inProcess.scripts, 2),
      sandbox_scripts_per_job: round(sandbox.scripts, 2),
      // How much each leg's rate moved between its rounds: the noise the ratios above sit in.
      bare_spread_pct: round(bare.spreadPct, 1),
      in_process_spread_pct: round(inProcess.spreadPct, 1),
      sandbox_spread_pct: round(sandbox.spreadPct, 1),
    });
    log(
      `throughput c=${c} (median of ${rounds}; rates spread ${round(bare.spreadPct, 1)} / ${round(inProcess.spreadPct, 1)} / ${round(sandbox.spreadPct, 1)} %): bare ${round(bare.perS)}/s, in process ${round(inProcess.perS)}/s (${round(inProcess.perS / bare.perS, 3)} × bare), sandbox (default) ${round(sandbox.perS)}/s (${round(sandbox.perS / bare.perS, 3)} × bare); ` +
        `CPU µs per job (process tree / Redis): bare ${round(bare.nodeUs)} / ${round(bare.redisUs)}, in process ${round(inProcess.nodeUs)} / ${round(inProcess.redisUs)}, sandbox ${round(sandbox.nodeUs)} / ${round(sandbox.redisUs)}; ` +
        `Lua calls per job (producer's add included): bare ${round(bare.scripts, 2)}, in process ${round(inProcess.scripts, 2)}, sandbox ${round(sandbox.scripts, 2)}`,
    );
  }
  return rows;
}

/** Finished jobs (completed or failed) in a queue, read from Redis: the worker runs in a process of its own. */
async function finishedCount(redis: Redis, prefix: string, queue: string): Promise<number> {
  const [[, done], [, failed]] = (await redis.multi().zcard(`${prefix}:${queue}:completed`).zcard(`${prefix}:${queue}:failed`).exec()) as [[null, number], [null, number]];
  return done + failed;
}

/**
 * One leg: the worker process is started and warmed up (its sandbox children running), then the clock
 * runs from the first send to the moment the n-th job is seen finished (polled every 2 ms).
 */
async function runLeg(opts: {
  redis: Redis;
  prefix: string;
  queue: string;
  worker: ChildProcess;
  n: number;
  send: (count: number) => Promise<void>;
  livePids: () => Promise<number[]>;
}): Promise<Leg> {
  const { redis, prefix, queue, worker, n } = opts;
  try {
    const reach = async (target: number, timeoutMs: number) =>
      waitUntil(async () => {
        if (worker.exitCode !== null) throw new Error(`the worker process exited (code ${worker.exitCode})`);
        return (await finishedCount(redis, prefix, queue)) >= target;
      }, timeoutMs, 2);
    await opts.send(WARM_UP);
    await reach(WARM_UP, 120_000);
    const meter = await cpuMeter(redis, opts.livePids);
    const scripts0 = await redisScriptCalls(redis);
    const t0 = performance.now();
    await opts.send(n);
    await reach(WARM_UP + n, 900_000);
    const s = (performance.now() - t0) / 1000;
    const cpu = await meter(n);
    const scripts = ((await redisScriptCalls(redis)) - scripts0) / n;
    return { perS: n / s, nodeUs: cpu.node_cpu_us_per_job, redisUs: cpu.redis_cpu_us_per_job, scripts };
  } finally {
    await stopProcess(worker);
  }
}

async function bareLeg(n: number, c: number): Promise<Leg> {
  const cfg = benchConfig();
  const conn = createRedisConnection(cfg, 'worker');
  const q = new Queue('bare', { connection: conn, prefix: cfg.QUEUE_PREFIX });
  const worker = spawnBareWorker(cfg, { queue: 'bare', concurrency: c });
  const send = async (count: number) => {
    for (let i = 0; i < count; i += BATCH) {
      await q.addBulk(Array.from({ length: Math.min(BATCH, count - i) }, (_, k) => ({ name: 'noop', data: jobData(i + k), opts: { removeOnComplete: { count: 10000 } } })));
    }
  };
  try {
    return await runLeg({ redis: conn, prefix: cfg.QUEUE_PREFIX, queue: 'bare', worker, n, send, livePids: async () => processTree(worker.pid!) });
  } finally {
    await q.close();
    conn.disconnect();
  }
}

async function productLeg(sandbox: boolean, n: number, c: number): Promise<Leg> {
  const cfg = benchConfig();
  const redis = createRedisConnection(cfg, 'worker');
  const queues = openQueues(redis, cfg.QUEUE_PREFIX);
  const keys = productKeys(cfg.QUEUE_PREFIX);
  const opts = cycleJobOptions('trading-cycle');
  const send = async (count: number) => {
    for (let i = 0; i < count; i += BATCH) {
      const batch = Array.from({ length: Math.min(BATCH, count - i) }, (_, k) => ({ name: CYCLE_JOB_NAME, data: jobData(i + k), opts: { ...opts, jobId: randomUUID() } }));
      const jobs = await queues['trading-cycle'].addBulk(batch);
      const multi = redis.multi();
      for (const j of jobs) multi.zadd(keys.custom('jobs', 'all'), 'NX', j.timestamp, `trading-cycle|${j.id}`);
      await multi.exec();
    }
  };
  const worker = spawnProductWorker(cfg, { queue: 'trading-cycle', concurrency: c, sandbox });
  try {
    return await runLeg({ redis, prefix: cfg.QUEUE_PREFIX, queue: 'trading-cycle', worker, n, send, livePids: async () => processTree(worker.pid!) });
  } finally {
    await closeQueues(queues);
    redis.disconnect();
  }
}

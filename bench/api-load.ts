import { randomUUID } from 'node:crypto';
import autocannon from 'autocannon';
import { closeQueues, CYCLE_JOB_NAME, createRedisConnection, cycleJobOptions, openQueues, productKeys } from '../src/core/index.ts';
import { startWorkers } from '../src/tasks/index.ts';
import { benchConfig, jobData, log, silent, waitUntil } from './bench-context.ts';
import { startApiStack } from './api-stack.ts';
import { round } from './bench-stats.ts';

/** The API under load: `retained` finished jobs, 20 concurrent clients for `seconds` per path. */
export async function apiLoad(opts: { retained: number; seconds: number }) {
  const cfg = benchConfig();
  const redis = createRedisConnection(cfg, 'worker');
  const queues = openQueues(redis, cfg.QUEUE_PREFIX);
  const keys = productKeys(cfg.QUEUE_PREFIX);
  const queue = 'trading-cycle-priority' as const;
  const jobOpts = { ...cycleJobOptions(queue), removeOnComplete: { count: opts.retained + 1000 } };
  const filled = Date.now();
  for (let i = 0; i < opts.retained; i += 2000) {
    const jobs = await queues[queue].addBulk(Array.from({ length: Math.min(2000, opts.retained - i) }, (_, k) => ({ name: CYCLE_JOB_NAME, data: jobData(i + k), opts: { ...jobOpts, jobId: randomUUID() } })));
    const multi = redis.multi();
    for (const j of jobs) multi.zadd(keys.custom('jobs', 'all'), 'NX', j.timestamp, `${queue}|${j.id}`);
    await multi.exec();
  }
  const svc = await startWorkers(cfg, silent, { queues: [queue], concurrency: 50, sandbox: false });
  await waitUntil(async () => (await queues[queue].getCompletedCount()) >= opts.retained, 1_800_000, 500);
  await svc.stop();
  log(`api: ${opts.retained} jobs retained in ${round((Date.now() - filled) / 1000)} s`);
  const stack = await startApiStack(cfg, null);
  const rows: Array<Record<string, number | string>> = [];
  for (const path of ['/api/jobs?limit=50', '/api/jobs?limit=50&ticker=T7', '/api/schedules', '/', '/metrics']) {
    const r = await autocannon({ url: `${stack.base}${path}`, connections: 20, duration: opts.seconds });
    rows.push({ path, retained_jobs: opts.retained, clients: 20, requests_per_s: round(r.requests.average), p50_ms: r.latency.p50, p99_ms: r.latency.p99, non_2xx: r.non2xx, errors: r.errors });
    log(`api ${path}: p50 ${r.latency.p50} ms p99 ${r.latency.p99} ms, ${round(r.requests.average)} req/s`);
  }
  await stack.close();
  await closeQueues(queues);
  redis.disconnect();
  return rows;
}

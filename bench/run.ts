/**
 * npm run bench — prints figures, asserts nothing. All sections run against the same Redis in one run, so they
 * compare as ratios. Options: --n 20000 --concurrency 2,8 --roundtrips 500 --schedule-seconds 60 --retained 100000
 * --load-seconds 5 --quick --json --write-doc --only overhead,latency,schedule,api,memory,replay
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { Queue, Worker } from 'bullmq';
import pino from 'pino';
import {
  BUILTIN_AGENTS, CYCLE_JOB_NAME, closeQueues, createRedisConnection, cycleJobDataSchema, cycleJobOptions, loadConfig,
  deleteKeysByPrefix, openQueues, productKeys, readCounters, type Config,
} from '../src/core/index.ts';
import { createApp } from '../src/dashboard/index.ts';
import { LiveEvents } from '../src/dashboard/live-events.ts';
import { startScheduler } from '../src/scheduler/index.ts';
import { startWorkers } from '../src/tasks/index.ts';
import { percentile, round } from './bench-stats.ts';
import { replayBench } from './replay-bench.ts';

const { values: opt } = parseArgs({
  options: {
    n: { type: 'string' }, concurrency: { type: 'string' }, roundtrips: { type: 'string' }, 'schedule-seconds': { type: 'string' },
    retained: { type: 'string' }, 'load-seconds': { type: 'string' }, quick: { type: 'boolean' }, json: { type: 'boolean' },
    'write-doc': { type: 'boolean' }, only: { type: 'string' },
  },
});
const quick = opt.quick === true;
const N = Number(opt.n ?? (quick ? 2000 : 20000));
const CONCURRENCY = (opt.concurrency ?? '2,8').split(',').map(Number);
const ROUNDTRIPS = Number(opt.roundtrips ?? (quick ? 50 : 500));
const SCHEDULE_S = Number(opt['schedule-seconds'] ?? (quick ? 8 : 60));
const RETAINED = Number(opt.retained ?? (quick ? 5000 : 100000));
const LOAD_S = Number(opt['load-seconds'] ?? (quick ? 2 : 5));
const ONLY = new Set((opt.only ?? 'overhead,latency,schedule,api,memory,replay').split(','));
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const NOOP = resolve('bench/noop-cycle.ts');
const silent = pino({ level: 'silent' });
const log = (s: string) => !opt.json && process.stderr.write(`${s}\n`);
const prefixes: string[] = [];

function benchConfig(extra: Record<string, string> = {}): Config {
  const prefix = `bench-${randomUUID().slice(0, 8)}`;
  prefixes.push(prefix);
  return loadConfig({ REDIS_URL, QUEUE_PREFIX: prefix, LOG_LEVEL: 'silent', CYCLE_MODULE: NOOP, RESULTS_DIR: mkdtempSync(join(os.tmpdir(), 'tl-bench-')), WORKER_HEARTBEAT_MS: '1000', ...extra });
}

const jobData = (i: number) => cycleJobDataSchema.parse({ agent: 'quant', ticker: `T${i % 500}`, trigger: 'api', requested_at: new Date().toISOString(), profile: BUILTIN_AGENTS.quant, overlap: 'allow' });

async function waitUntil(check: () => Promise<boolean>, timeoutMs: number, everyMs = 50): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('benchmark step timed out');
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

// 1. Throughput: bare BullMQ vs the product's enqueue path, job store and worker wrapper (no-op cycle).
async function overhead() {
  const rows: Array<Record<string, number | string>> = [];
  for (const c of CONCURRENCY) {
    // (a) bare BullMQ
    const bareCfg = benchConfig();
    const conn = createRedisConnection(bareCfg, 'worker');
    const q = new Queue('bare', { connection: conn, prefix: bareCfg.QUEUE_PREFIX });
    const bareStart = Date.now();
    for (let i = 0; i < N; i += 1000) await q.addBulk(Array.from({ length: Math.min(1000, N - i) }, (_, k) => ({ name: 'noop', data: jobData(i + k), opts: { removeOnComplete: { count: 10000 } } })));
    let done = 0;
    const w = new Worker('bare', async () => ({ ok: true }), { connection: createRedisConnection(bareCfg, 'worker'), prefix: bareCfg.QUEUE_PREFIX, concurrency: c });
    w.on('completed', () => done++);
    await waitUntil(async () => done >= N, 600_000, 20);
    const bareS = (Date.now() - bareStart) / 1000;
    await w.close();
    await q.close();
    conn.disconnect();

    // (b) the product, in-process cycles
    const runProduct = async (sandbox: boolean, n: number) => {
      const cfg = benchConfig();
      const redis = createRedisConnection(cfg, 'worker');
      const queues = openQueues(redis, cfg.QUEUE_PREFIX);
      const keys = productKeys(cfg.QUEUE_PREFIX);
      const started = Date.now();
      const opts = cycleJobOptions('trading-cycle');
      for (let i = 0; i < n; i += 1000) {
        const batch = Array.from({ length: Math.min(1000, n - i) }, (_, k) => ({ name: CYCLE_JOB_NAME, data: jobData(i + k), opts: { ...opts, jobId: randomUUID() } }));
        const jobs = await queues['trading-cycle'].addBulk(batch);
        // The product's job index, as enqueueCycle writes it.
        const multi = redis.multi();
        for (const j of jobs) multi.zadd(keys.custom('jobs', 'all'), 'NX', j.timestamp, `trading-cycle|${j.id}`);
        await multi.exec();
      }
      const svc = await startWorkers(cfg, silent, { queues: ['trading-cycle'], concurrency: c, sandbox });
      // Counted by the product's own counters: retention keeps only the newest 10 000 completed jobs.
      const finished = async () => (await readCounters(redis, keys)).filter((x) => x.name === 'cycles_completed_total' || x.name === 'cycles_failed_total').reduce((a, x) => a + x.value, 0);
      await waitUntil(async () => (await finished()) >= n, 900_000, 20);
      const s = (Date.now() - started) / 1000;
      await svc.stop();
      await closeQueues(queues);
      redis.disconnect();
      return s;
    };
    const productS = await runProduct(false, N);
    const sandboxN = Math.max(200, Math.round(N / 10));
    const sandboxS = await runProduct(true, sandboxN);
    rows.push({
      concurrency: c,
      jobs: N,
      bare_jobs_per_s: round(N / bareS),
      product_jobs_per_s: round(N / productS),
      ratio_product_vs_bare: round(bareS / productS, 3),
      sandbox_jobs: sandboxN,
      sandbox_jobs_per_s: round(sandboxN / sandboxS),
    });
    log(`overhead c=${c}: bare ${round(N / bareS)} jobs/s, product ${round(N / productS)} jobs/s, sandbox ${round(sandboxN / sandboxS)} jobs/s`);
  }
  return rows;
}

async function startApiStack(cfg: Config, withWorker = true) {
  const redis = createRedisConnection(cfg, 'producer');
  await waitUntil(async () => redis.status === 'ready', 5_000);
  const queues = openQueues(redis, cfg.QUEUE_PREFIX);
  const keys = productKeys(cfg.QUEUE_PREFIX);
  const live = new LiveEvents(cfg, keys, queues, silent);
  const app = createApp({ config: cfg, logger: silent, redis, keys, queues, now: () => new Date() }, { live });
  const server = http.createServer(app).listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const worker = withWorker ? await startWorkers(cfg, silent, { sandbox: false, concurrency: 8 }) : null;
  return {
    base, live, queues, redis,
    async close() {
      await worker?.stop();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await live.close();
      await closeQueues(queues);
      redis.disconnect();
    },
  };
}

// 2. Latency: POST /api/jobs → start → completion, seen through SSE.
async function latency() {
  const cfg = benchConfig();
  const stack = await startApiStack(cfg);
  const seen = new Map<string, { started?: number; completed?: number }>();
  stack.live.on((e) => {
    const id = String(e.job_id ?? '');
    if (!id) return;
    const entry = seen.get(id) ?? {};
    if (e.type === 'cycle.started') entry.started = Date.now();
    if (e.type === 'cycle.completed') entry.completed = Date.now();
    seen.set(id, entry);
  });
  await new Promise((r) => setTimeout(r, 300));
  const toStart: number[] = [];
  const toDone: number[] = [];
  for (let i = 0; i < ROUNDTRIPS; i++) {
    const t0 = Date.now();
    const res = await fetch(`${stack.base}/api/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ticker: 'SPY' }) });
    const { job_id } = (await res.json()) as { job_id: string };
    await waitUntil(async () => Boolean(seen.get(job_id)?.completed), 30_000, 1);
    const s = seen.get(job_id)!;
    toStart.push((s.started ?? s.completed!) - t0);
    toDone.push(s.completed! - t0);
  }
  await stack.close();
  const row = {
    roundtrips: ROUNDTRIPS,
    enqueue_to_start_p50_ms: percentile(toStart, 50), enqueue_to_start_p95_ms: percentile(toStart, 95), enqueue_to_start_p99_ms: percentile(toStart, 99),
    enqueue_to_completed_p50_ms: percentile(toDone, 50), enqueue_to_completed_p95_ms: percentile(toDone, 95), enqueue_to_completed_p99_ms: percentile(toDone, 99),
  };
  log(`latency: start p50 ${row.enqueue_to_start_p50_ms} ms, completed p50 ${row.enqueue_to_completed_p50_ms} / p99 ${row.enqueue_to_completed_p99_ms} ms`);
  return row;
}

// 3. Schedule precision: 3 schedules every 1 s, always, for SCHEDULE_S seconds.
async function schedulePrecision() {
  const dir = mkdtempSync(join(os.tmpdir(), 'tl-bench-sched-'));
  const file = join(dir, 'schedules.yaml');
  writeFileSync(file, `schedules:\n${['a', 'b', 'c'].map((id) => `  - { id: ${id}, agent: quant, ticker: SPY, every: 1s, market_hours: always, overlap: allow }\n`).join('')}`);
  const cfg = benchConfig({ SCHEDULES_FILE: file });
  const worker = await startWorkers(cfg, silent, { sandbox: false, concurrency: 8, queues: ['trading-cycle'] });
  const starts: Array<{ key: string; due: number; started: number }> = [];
  for (const w of worker.workers) w.on('active', (job) => {
    const m = /^repeat:(.+):(\d+)$/.exec(String(job.id));
    if (m) starts.push({ key: m[1]!, due: Number(m[2]), started: Date.now() });
  });
  const scheduler = await startScheduler(cfg, silent, { watch: false });
  const t0 = Date.now();
  await new Promise((r) => setTimeout(r, SCHEDULE_S * 1000));
  const t1 = Date.now();
  await scheduler.stop();
  await worker.stop();
  const lags = starts.map((s) => s.started - s.due);
  let missed = 0;
  let duplicates = 0;
  for (const key of ['a:SPY', 'b:SPY', 'c:SPY']) {
    const dues = starts.filter((s) => s.key === key).map((s) => s.due).sort((x, y) => x - y);
    duplicates += dues.length - new Set(dues).size;
    // Every whole second between the first and the last fire must be there.
    const inside = dues.filter((d) => d > t0 + 1000 && d < t1 - 2000);
    if (inside.length > 1) missed += Math.round((inside.at(-1)! - inside[0]!) / 1000) + 1 - new Set(inside).size;
  }
  const row = { seconds: SCHEDULE_S, fires: starts.length, lag_p50_ms: percentile(lags, 50), lag_p99_ms: percentile(lags, 99), missed, duplicates };
  log(`schedule: ${starts.length} fires, lag p50 ${row.lag_p50_ms} ms p99 ${row.lag_p99_ms} ms, missed ${missed}, duplicates ${duplicates}`);
  return row;
}

// 4. Dashboard/API under load with RETAINED jobs.
async function apiLoad() {
  const cfg = benchConfig();
  const redis = createRedisConnection(cfg, 'worker');
  const queues = openQueues(redis, cfg.QUEUE_PREFIX);
  const keys = productKeys(cfg.QUEUE_PREFIX);
  const opts = { ...cycleJobOptions('trading-cycle-priority'), removeOnComplete: { count: RETAINED + 1000 } };
  for (let i = 0; i < RETAINED; i += 2000) {
    const jobs = await queues['trading-cycle-priority'].addBulk(Array.from({ length: Math.min(2000, RETAINED - i) }, (_, k) => ({ name: CYCLE_JOB_NAME, data: jobData(i + k), opts: { ...opts, jobId: randomUUID() } })));
    const multi = redis.multi();
    for (const j of jobs) multi.zadd(keys.custom('jobs', 'all'), 'NX', j.timestamp, `trading-cycle-priority|${j.id}`);
    await multi.exec();
  }
  const svc = await startWorkers(cfg, silent, { queues: ['trading-cycle-priority'], concurrency: 50, sandbox: false });
  await waitUntil(async () => (await queues['trading-cycle-priority'].getCompletedCount()) >= RETAINED, 1_800_000, 500);
  await svc.stop();
  const stack = await startApiStack(cfg, false);
  const rows: Array<Record<string, number | string>> = [];
  for (const path of ['/api/jobs?limit=50', '/api/schedules', '/', '/metrics']) {
    const r = await autocannon({ url: `${stack.base}${path}`, connections: 20, duration: LOAD_S });
    rows.push({ path, retained_jobs: RETAINED, requests_per_s: round(r.requests.average), p50_ms: r.latency.p50, p99_ms: r.latency.p99, non_2xx: r.non2xx, errors: r.errors });
    log(`api ${path}: p50 ${r.latency.p50} ms p99 ${r.latency.p99} ms, ${round(r.requests.average)} req/s`);
  }
  await stack.close();
  await closeQueues(queues);
  redis.disconnect();
  return rows;
}

// 5. Memory: a worker process's RSS after 1 000 jobs vs after 20 000.
async function memory() {
  const cfg = benchConfig();
  const small = quick ? 500 : 1000;
  const large = quick ? 5000 : 20000;
  const child = spawn(process.execPath, ['bin/worker.mjs', '--queues', 'trading-cycle', '--concurrency', '8'], {
    env: { ...process.env, REDIS_URL, QUEUE_PREFIX: cfg.QUEUE_PREFIX, LOG_LEVEL: 'silent', WORKER_SANDBOX: '0', CYCLE_MODULE: NOOP, RESULTS_DIR: cfg.RESULTS_DIR },
    stdio: 'ignore',
  });
  const rss = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
  const redis = createRedisConnection(cfg, 'worker');
  const queues = openQueues(redis, cfg.QUEUE_PREFIX);
  const add = async (n: number) => {
    for (let i = 0; i < n; i += 1000) await queues['trading-cycle'].addBulk(Array.from({ length: Math.min(1000, n - i) }, (_, k) => ({ name: CYCLE_JOB_NAME, data: jobData(k), opts: { ...cycleJobOptions('trading-cycle'), jobId: randomUUID() } })));
  };
  const completed = async () => (await queues['trading-cycle'].getCompletedCount()) + (await queues['trading-cycle'].getFailedCount());
  await add(small);
  await waitUntil(async () => (await completed()) >= small, 600_000, 100);
  await new Promise((r) => setTimeout(r, 1000));
  const after1 = rss();
  await add(large - small);
  await waitUntil(async () => (await completed()) >= Math.min(large, 10_000), 1_200_000, 100);
  await waitUntil(async () => (await queues['trading-cycle'].getWaitingCount()) + (await queues['trading-cycle'].getActiveCount()) === 0, 1_200_000, 100);
  await new Promise((r) => setTimeout(r, 1000));
  const after2 = rss();
  child.kill('SIGTERM');
  await closeQueues(queues);
  redis.disconnect();
  const row = { [`rss_mb_after_${small}`]: round(after1), [`rss_mb_after_${large}`]: round(after2), growth_ratio: round(after2 / after1, 3) };
  log(`memory: ${round(after1)} MB after ${small}, ${round(after2)} MB after ${large}`);
  return row;
}

async function cleanup() {
  const redis = createRedisConnection({ REDIS_URL }, 'worker');
  for (const p of prefixes) await deleteKeysByPrefix(redis, p);
  redis.disconnect();
}

async function versions() {
  const redis = createRedisConnection({ REDIS_URL }, 'worker');
  const info = await redis.info('server');
  redis.disconnect();
  const pkg = (name: string) => (JSON.parse(readFileSync(`node_modules/${name}/package.json`, 'utf8')) as { version: string }).version;
  return { date: new Date().toISOString(), cores: os.cpus().length, memory_gb: round(os.totalmem() / 2 ** 30), node: process.version, redis: /redis_version:(\S+)/.exec(info)?.[1] ?? '?', bullmq: pkg('bullmq'), quick };
}

const report: Record<string, unknown> = { machine: await versions() };
try {
  if (ONLY.has('overhead')) report.overhead = await overhead();
  if (ONLY.has('latency')) report.latency = await latency();
  if (ONLY.has('schedule')) report.schedule = await schedulePrecision();
  if (ONLY.has('api')) report.api = await apiLoad();
  if (ONLY.has('memory')) report.memory = await memory();
  if (ONLY.has('replay')) report.replay = await replayBench(benchConfig({ CYCLE_MODULE: '', MARKET_DATA: 'simulated' }));
} finally {
  await cleanup();
}

const tableOf = (rows: unknown) => {
  const list = (Array.isArray(rows) ? rows : [rows]) as Array<Record<string, unknown>>;
  const cols = Object.keys(list[0] ?? {});
  return [`| ${cols.join(' | ')} |`, `|${cols.map(() => '---').join('|')}|`, ...list.map((r) => `| ${cols.map((c) => String(r[c])).join(' | ')} |`)].join('\n');
};
const markdown = Object.entries(report).map(([k, v]) => `### ${k}\n\n${tableOf(v)}\n`).join('\n');
if (opt.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
else process.stdout.write(`\n${markdown}`);
if (opt['write-doc']) {
  const doc = `# Benchmarks\n\nProduced by \`npm run bench${quick ? ' -- --quick' : ''}\` on ${report.machine && (report.machine as { date: string }).date}. All sections ran against the same Redis in one run; compare figures as ratios. Targets: product within 10 % of bare BullMQ in process-in-place mode (ratio ≥ 0.9), 0 missed and 0 duplicate schedule fires, no worker memory growth beyond noise.\n\n${markdown}\n`;
  writeFileSync('docs/BENCHMARKS.md', doc);
}
process.exit(0);

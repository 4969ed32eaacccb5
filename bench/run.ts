/**
 * npm run bench — prints figures, asserts nothing. Every section runs against the same Redis in one
 * sitting, so figures compare as ratios; each section is a module of its own (bench/<figure>.ts).
 * Options: --quick --json --write-doc --only throughput,latency,schedule,scale,api,memory,replay
 *   --n 8000 --rounds 3 --concurrency 2,8 --roundtrips 500 --schedule-seconds 30 --retained 100000 --load-seconds 5
 *   --celery <folder or results.json> (default ../shared/bench/celery from the project root, or
 *   BENCH_CELERY) --run-celery (run the Celery baseline's run.sh first, in the same sitting)
 */
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { createRedisConnection } from '../src/core/index.ts';
import { apiLoad } from './api-load.ts';
import { benchConfig, cleanupPrefixes, log, REDIS_URL, setQuiet } from './bench-context.ts';
import { round } from './bench-stats.ts';
import { celeryBaseline, DEFAULT_CELERY_DIR } from './celery-baseline.ts';
import { latency } from './latency.ts';
import { dashboardMemory, workerMemory } from './memory.ts';
import { ratiosOf } from './ratios.ts';
import { benchmarksDoc, markdownOf } from './report-doc.ts';
import { schedulePrecision } from './schedule-precision.ts';
import { schedulerScale } from './scheduler-scale.ts';
import { throughput } from './throughput.ts';
import { replayBench } from './replay-bench.ts';

const { values: opt } = parseArgs({
  options: {
    n: { type: 'string' }, rounds: { type: 'string' }, concurrency: { type: 'string' }, roundtrips: { type: 'string' }, 'schedule-seconds': { type: 'string' },
    retained: { type: 'string' }, 'load-seconds': { type: 'string' }, quick: { type: 'boolean' }, json: { type: 'boolean' },
    'write-doc': { type: 'boolean' }, only: { type: 'string' }, celery: { type: 'string' }, 'run-celery': { type: 'boolean' },
  },
});
const quick = opt.quick === true;
setQuiet(opt.json === true);
const ONLY = new Set((opt.only ?? 'throughput,latency,schedule,scale,api,memory,replay').split(','));

async function machine() {
  const redis = createRedisConnection({ REDIS_URL }, 'worker');
  const info = await redis.info('server');
  redis.disconnect();
  const pkg = (name: string) => (JSON.parse(readFileSync(`node_modules/${name}/package.json`, 'utf8')) as { version: string }).version;
  return { date: new Date().toISOString(), cores: os.cpus().length, memory_gb: round(os.totalmem() / 2 ** 30), load_before: os.loadavg().map((l) => round(l, 2)).join(' '), node: process.version, redis: /redis_version:(\S+)/.exec(info)?.[1] ?? '?', bullmq: pkg('bullmq'), quick };
}

const started = Date.now();
const celeryAt = opt.celery ?? process.env.BENCH_CELERY ?? DEFAULT_CELERY_DIR;
const celery = celeryBaseline(celeryAt, opt['run-celery'] === true);
const report: Record<string, unknown> = { machine: await machine() };
try {
  if (ONLY.has('throughput')) {
    report.throughput = await throughput({ n: Number(opt.n ?? (quick ? 3000 : 8000)), concurrency: (opt.concurrency ?? '2,8').split(',').map(Number), rounds: Number(opt.rounds ?? (quick ? 1 : 3)) });
  }
  if (ONLY.has('latency')) report.latency = await latency({ roundtrips: Number(opt.roundtrips ?? (quick ? 100 : 500)) });
  if (ONLY.has('schedule')) report.schedule = await schedulePrecision({ seconds: Number(opt['schedule-seconds'] ?? (quick ? 8 : 30)) });
  if (ONLY.has('scale')) report.scheduler_scale = await schedulerScale({ sizes: quick ? [10, 100, 1000] : [10, 100, 1000, 5000] });
  if (ONLY.has('api')) report.api = await apiLoad({ retained: Number(opt.retained ?? (quick ? 5000 : 100000)), seconds: Number(opt['load-seconds'] ?? (quick ? 2 : 5)) });
  if (ONLY.has('memory')) {
    report.worker_memory = await workerMemory(quick ? { small: 500, large: 3000 } : { small: 1000, large: 20000 });
    report.dashboard_memory = await dashboardMemory({ clients: 100, events: quick ? 50 : 200 });
  }
  if (ONLY.has('replay')) report.replay = await replayBench(benchConfig({ CYCLE_MODULE: '', MARKET_DATA: 'simulated' }));
} finally {
  await cleanupPrefixes();
}
if (celery) report.celery = celery;
report.ratios = ratiosOf(report as Parameters<typeof ratiosOf>[0], celery);
(report.machine as Record<string, unknown>).seconds = round((Date.now() - started) / 1000);
log(`bench: ${round((Date.now() - started) / 1000)} s`);

if (opt.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
else process.stdout.write(`\n${markdownOf(report)}`);
if (opt['write-doc']) writeFileSync('docs/BENCHMARKS.md', benchmarksDoc(report, quick));
process.exit(0);

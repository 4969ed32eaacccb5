import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import pino from 'pino';
import { BUILTIN_AGENTS, closeQueues, CYCLE_JOB_NAME, createRedisConnection, cycleJobDataSchema, cycleJobOptions, deleteKeysByPrefix, loadConfig, openQueues, type Config } from '../src/core/index.ts';
import type { WorkerService } from '../src/tasks/index.ts';

/** What every bench section shares: one Redis, throw-away prefixes, the no-op cycle, a silent logger. */
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
export const NOOP = resolve('bench/noop-cycle.ts');
export const silent = pino({ level: 'silent' });

const prefixes: string[] = [];
let quiet = false;

export function setQuiet(q: boolean): void {
  quiet = q;
}

export const log = (s: string) => {
  if (!quiet) process.stderr.write(`${s}\n`);
};

/** A config with its own prefix and results folder (deleted at the end of the run). */
export function benchConfig(extra: Record<string, string> = {}): Config {
  const prefix = `bench-${randomUUID().slice(0, 8)}`;
  prefixes.push(prefix);
  return loadConfig({ REDIS_URL, QUEUE_PREFIX: prefix, LOG_LEVEL: 'silent', CYCLE_MODULE: NOOP, RESULTS_DIR: mkdtempSync(join(os.tmpdir(), 'tl-bench-')), WORKER_HEARTBEAT_MS: '1000', ...extra });
}

export const jobData = (i: number) =>
  cycleJobDataSchema.parse({ agent: 'quant', ticker: `T${i % 500}`, trigger: 'api', requested_at: new Date().toISOString(), profile: BUILTIN_AGENTS.quant, overlap: 'allow' });

export async function waitUntil(check: () => Promise<boolean> | boolean, timeoutMs: number, everyMs = 50): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('benchmark step timed out');
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Runs a few jobs through each queue the worker serves, so its sandbox children are up before the clock starts. */
export async function warmUp(cfg: Config, worker: WorkerService, perQueue = 20): Promise<void> {
  const redis = createRedisConnection(cfg, 'worker');
  const queues = openQueues(redis, cfg.QUEUE_PREFIX);
  let done = 0;
  const count = () => done++;
  for (const w of worker.workers) w.on('completed', count);
  for (const w of worker.workers) {
    const q = queues[w.name as keyof typeof queues];
    await q.addBulk(Array.from({ length: perQueue }, (_, i) => ({ name: CYCLE_JOB_NAME, data: jobData(i), opts: { ...cycleJobOptions(q.name as keyof typeof queues), jobId: randomUUID() } })));
  }
  await waitUntil(() => done >= perQueue * worker.workers.length, 120_000, 10);
  for (const w of worker.workers) w.off('completed', count);
  await closeQueues(queues);
  redis.disconnect();
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resident memory of a process, MB (0 once it is gone). */
export function rssMbOf(pid: number): number {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
  } catch {
    return 0;
  }
}

export async function cleanupPrefixes(): Promise<void> {
  const redis = createRedisConnection({ REDIS_URL }, 'worker');
  for (const p of prefixes) await deleteKeysByPrefix(redis, p);
  redis.disconnect();
}

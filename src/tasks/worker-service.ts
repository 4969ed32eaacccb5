import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { MetricsTime, Worker } from 'bullmq';
import { MarketCalendar } from '../calendar/index.ts';
import {
  createRedisConnection,
  CYCLE_JOB_NAME,
  describeRedis,
  expireDueApprovals,
  productKeys,
  publishEvent,
  QUEUE_NAMES,
  readApproval,
  type Config,
  type Logger,
  type QueueName,
  type RunningService,
} from '../core/index.ts';
import { openHistory, type HistoryStore } from '../history/index.ts';
import { cappedBackoff } from './backoff.ts';
import { buildChildBundle } from './child-bundle.ts';
import { childEnv } from './child-env.ts';
import { loadSettleFunction, settleNothing, type CycleFunction, type SettleFunction } from './cycle-execution.ts';
import { gateForApproval } from './approval-gate.ts';
import { recordingAttempts } from './attempt-log.ts';
import { CompletionWrites } from './completion-writes.ts';
import { StartsOnFetch } from './start-on-fetch.ts';
import { createCycleProcessor, recordStalledFailure, STALLED_REASON } from './cycle-processor.ts';
import type { CycleRunner } from './cycle-runner.ts';
import { createInProcessRunner } from './in-process-runner.ts';
import { CANCEL_REASON, cancelChannel } from './job-control.ts';
import { createResultFileWriter, recoverResultFiles } from './result-files.ts';
import { createSandboxRunner } from './sandbox-runner.ts';
import { writeHeartbeat, type WorkerHeartbeat } from './worker-heartbeat.ts';

export interface WorkerOptions {
  queues?: QueueName[];
  concurrency?: number;
  /** Overrides WORKER_SANDBOX. */
  sandbox?: boolean;
  /**
   * The cycle to run in-process (default: CYCLE_MODULE, else the agents' runTradingCycle). Sandbox
   * children cannot receive a function: they load CYCLE_MODULE or the built-in cycle.
   */
  runCycle?: CycleFunction;
  /** The settle step for `runCycle` (default: none); without runCycle, the one that goes with the loaded cycle. */
  settleCycle?: SettleFunction;
  now?: () => number;
  /** How often the history writer copies forward returns and approvals from Redis (default 1 minute). */
  historyRefreshMs?: number;
}

export interface WorkerService extends RunningService {
  readonly id: string;
  readonly workers: Worker[];
  readonly runner: CycleRunner;
  /** The durable history, when DATABASE_URL is set: this process drains the outbox into it. */
  readonly history: HistoryStore | null;
}

const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** Sandbox children start from the compiled bundle; a TypeScript CYCLE_MODULE is compiled with them. */
async function sandboxRunner(config: Config, logger: Logger): Promise<CycleRunner> {
  const bundle = await buildChildBundle(config.CYCLE_MODULE);
  if (!bundle.compiled) logger.warn('could not compile the sandbox child; children start through the TypeScript loader');
  const env = childEnv(config);
  if (bundle.cycleModule) env.CYCLE_MODULE = bundle.cycleModule;
  return createSandboxRunner({
    maxJobsPerChild: config.WORKER_MAX_JOBS_PER_CHILD,
    maxChildMemoryMb: config.WORKER_MAX_CHILD_MEMORY_MB,
    env,
    logger,
    entry: bundle.entry,
  });
}

/**
 * A worker process: one BullMQ Worker per queue it serves, each with `concurrency` slots (a slot is
 * taken only when free: prefetch 1). Cycles run in sandbox children unless WORKER_SANDBOX=0.
 */
export async function startWorkers(config: Config, logger: Logger, opts: WorkerOptions = {}): Promise<WorkerService> {
  const queues = opts.queues ?? [...QUEUE_NAMES];
  const concurrency = opts.concurrency ?? config.WORKER_CONCURRENCY;
  const id = `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 6)}`;
  const redis = createRedisConnection(config, 'worker');
  const subscriber = createRedisConnection(config, 'worker');
  const keys = productKeys(config.QUEUE_PREFIX);
  const sandbox = opts.sandbox ?? config.WORKER_SANDBOX;
  const runner = sandbox ? await sandboxRunner(config, logger) : createInProcessRunner(config, redis, logger, opts.runCycle);
  const calendar = new MarketCalendar({ extraClosures: config.MARKET_CLOSURES });
  // Settling happens here in the worker process, after the analysis is on record. Loaded at the first
  // settle, not at start-up: the agents' clients are heavy and a sandboxed worker rarely needs them early.
  let builtinSettle: Promise<SettleFunction> | null = null;
  // A CYCLE_MODULE's settle step is known now (cheap to load), so a cycle without one records its
  // analysis and outcome in one call; should the module not load, it fails at the first settle as before.
  const moduleSettle = !opts.runCycle && config.CYCLE_MODULE ? await loadSettleFunction(config).catch(() => null) : null;
  const settle: SettleFunction = opts.runCycle
    ? (opts.settleCycle ?? settleNothing)
    : (moduleSettle ?? ((analysis, job, ctx) => (builtinSettle ??= loadSettleFunction(config)).then((fn) => fn(analysis, job, ctx))));
  // Durable history: this process also drains the outbox into PostgreSQL (one drainer at a time).
  const history = openHistory(config, logger);
  const writer = history?.startWriter({
    redis,
    keys,
    forwardReturns: async (decisions) => (await import('../agents/index.ts')).readForwardReturns(redis, config.QUEUE_PREFIX, decisions),
    refreshEveryMs: opts.historyRefreshMs,
    retentionDays: config.HISTORY_RETENTION_DAYS,
    approvals: async (jobIds) => (await Promise.all(jobIds.map((jobId) => readApproval(redis, keys, jobId)))).filter((a) => a !== null),
  });
  const results = createResultFileWriter({ dir: config.RESULTS_DIR, logger, pending: { redis, keys } });
  // Files a killed worker left unwritten: all of them now, then those older than a minute each minute.
  const recoverFiles = (minAgeMs: number) =>
    recoverResultFiles(redis, keys, results, minAgeMs)
      .then((n) => n && logger.info({ files: n }, 'writing result files a stopped worker left unwritten'))
      .catch((err: Error) => logger.warn({ err: err.message }, 'could not look for unwritten result files'));
  void recoverFiles(0);
  const fileSweep = setInterval(() => void recoverFiles(60_000), 60_000);
  const startedAt = new Date().toISOString();
  const active = new Map<string, WorkerHeartbeat['active'][number]>();
  let processed = 0;
  let failed = 0;
  let abandoned = false;

  // A completed job's end goes in the Lua call that completes it, and a fetched job's start in the one
  // that fetched it (one round trip each, BullMQ's own).
  const completions = new CompletionWrites(redis, new StartsOnFetch(keys, id));
  const workers = queues.map((queue) => {
    const processor = recordingAttempts(
      createCycleProcessor({ config, logger, redis, keys, runner, calendar, settle: gateForApproval(settle, { redis, keys, calendar }), now: opts.now, abandoned: () => abandoned, results, completions }, queue),
      { redis, keys, worker: id },
    );
    const worker = new Worker(queue, processor, {
      connection: createRedisConnection(config, 'worker'),
      prefix: config.QUEUE_PREFIX,
      concurrency,
      name: id,
      lockDuration: config.WORKER_LOCK_MS,
      stalledInterval: config.WORKER_STALLED_INTERVAL_MS,
      maxStalledCount: config.WORKER_MAX_STALLED,
      settings: { backoffStrategy: cappedBackoff(config) },
      // Per-minute completed/failed counts kept in Redis for a week: Bull Board's charts draw them.
      metrics: { maxDataPoints: MetricsTime.ONE_WEEK },
    }, completions.backend());
    worker.on('error', (err) => logger.error({ err: err.message, queue }, 'worker error'));
    worker.on('active', (job) => {
      const d = job.data as { ticker?: string; agent?: string };
      active.set(String(job.id), { job_id: String(job.id), queue, ticker: d.ticker ?? '', agent: d.agent ?? '', started_at: new Date().toISOString() });
    });
    worker.on('completed', (job) => {
      active.delete(String(job.id));
      processed++;
    });
    worker.on('failed', (job, err) => {
      if (!job) return;
      active.delete(String(job.id));
      processed++;
      failed++;
      // Failed by BullMQ itself when taken (it stalled too often): our processor never saw it.
      if (err?.message === STALLED_REASON && job.deferredFailure) {
        recordStalledFailure({ config, logger, redis, keys, results }, queue, job).catch((e: unknown) => logger.error({ err: (e as Error).message, jobId: job.id }, 'could not record a stalled failure'));
      }
    });
    worker.on('stalled', (jobId) => logger.warn({ jobId, queue }, 'job stalled: its worker stopped renewing the lock; re-queued'));
    return worker;
  });

  const heartbeat = async () => {
    const hb: WorkerHeartbeat = {
      id,
      host: hostname(),
      pid: process.pid,
      version: VERSION,
      queues,
      concurrency,
      sandbox,
      sandbox_pids: runner.childPids(),
      active: [...active.values()],
      processed,
      failed,
      started_at: startedAt,
      last_heartbeat: new Date().toISOString(),
      heartbeat_ms: config.WORKER_HEARTBEAT_MS,
      rss_bytes: process.memoryUsage().rss,
    };
    await writeHeartbeat(redis, keys, hb).catch(() => undefined);
  };
  await heartbeat();
  // Each heartbeat also expires decisions left unapproved past their session's close (atomic: once).
  const beat = setInterval(() => void heartbeat().then(() => expireDueApprovals(redis, keys, new Date())).catch(() => undefined), config.WORKER_HEARTBEAT_MS);
  await publishEvent(redis, keys, 'worker.online', { worker: id, host: hostname(), pid: process.pid, queues }).catch(() => undefined);

  // Cancel requests may reach every worker; only the one running the job acts.
  await subscriber.subscribe(cancelChannel(keys));
  subscriber.on('message', (_channel, jobId: string) => {
    for (const w of workers) if (w.cancelJob(jobId, CANCEL_REASON)) logger.info({ jobId }, 'cancelling running job');
  });

  logger.info({ id, queues, concurrency, sandbox, job: CYCLE_JOB_NAME, redis: describeRedis(config), ...(history ? { history: history.where } : {}) }, 'worker started');

  return {
    id,
    workers,
    runner,
    history,
    async stop() {
      clearInterval(beat);
      clearInterval(fileSweep);
      subscriber.disconnect();
      // Stop taking jobs at once; worker.close() then waits for running ones, without a limit of its own
      // (and a later close(true) would only return that same pending promise).
      const closing = Promise.all(workers.map((w) => w.close()));
      const deadline = config.WORKER_SHUTDOWN_MS;
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([closing.then(() => false), new Promise<boolean>((r) => (timer = setTimeout(() => r(true), deadline)))]);
      clearTimeout(timer);
      if (timedOut) {
        // Left active and unrecorded: once this process is gone their locks expire and another worker
        // runs them again, without spending an attempt (Celery's acks_late redelivery).
        abandoned = true;
        logger.warn({ deadlineMs: deadline, jobs: [...active.keys()] }, 'running cycles did not finish before the shutdown deadline; leaving them to stalled recovery');
      }
      await runner.close();
      // Ends whose completion a closing Worker skipped: on record now, so their jobs, recovered as
      // stalled, complete without being analysed again.
      const unsent = await completions.flush();
      if (unsent) logger.info({ jobs: unsent }, 'recorded the ends of completed jobs BullMQ did not complete before closing');
      // Result files still queued are written before the connection goes; what a broken disk holds back
      // past 5 s stays in the pending hash for the next worker to write.
      await results.flush(5_000);
      // Last records drained if PostgreSQL answers; otherwise they wait in the outbox for the next writer.
      if (writer) await Promise.race([writer.drain().catch(() => 0), new Promise((r) => setTimeout(r, 2_000).unref())]);
      await history?.close();
      await redis.hdel(keys.workers, id).catch(() => undefined);
      await publishEvent(redis, keys, 'worker.offline', { worker: id, host: hostname(), pid: process.pid, graceful: !timedOut }).catch(() => undefined);
      redis.disconnect();
    },
  };
}

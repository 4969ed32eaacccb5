import { UnrecoverableError, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { MarketCalendar } from '../calendar/index.ts';
import {
  ackReplicas,
  cycleJobDataSchema,
  effectiveQueue,
  jobLogger,
  type Config,
  type CycleJobData,
  type CycleResult,
  type JobOutcome,
  type Logger,
  type ProductKeys,
  type QueueName,
} from '../core/index.ts';
import { admit } from './admission.ts';
import { writeJobLog } from './attempt-log.ts';
import { loadStoredAnalysis, storeAnalysisOnce } from './analysis-store.ts';
import { settleNothing, type SettleFunction } from './cycle-execution.ts';
import { retryStorage } from './storage-retry.ts';
import type { CycleRunner } from './cycle-runner.ts';
import { CANCEL_REASON, readTombstone } from './job-control.ts';
import { indexJob } from './job-index.ts';
import { dueTimeFromJobId } from './job-view.ts';
import { acquireOverlapLease, releaseOverlapLease } from './overlap-lease.ts';
import { confirmJobStart, writeConfirmed, type ReplicaGuardDeps, type ReplicaHealth } from './replica-guard.ts';
import { recordFinalOutcome, type FinalOutcome } from './run-recorder.ts';

export interface CycleProcessorDeps {
  config: Config;
  logger: Logger;
  redis: Redis;
  keys: ProductKeys;
  runner: CycleRunner;
  calendar: MarketCalendar;
  now?: () => number;
  /**
   * True once the shutdown deadline has passed: cycles cut short then are neither recorded nor
   * settled, so BullMQ leaves them active and another worker recovers them as stalled.
   */
  abandoned?: () => boolean;
  /** The side effects of a stored analysis (fill, scorecard); default: none (custom cycles). */
  settle?: SettleFunction;
  /** How long one storage step (analysis, settle, outcome) is retried on its own. */
  storageRetryMs?: number;
  /** How long the replica guards wait for a replica (default REPLICA_GUARD_MS). */
  replicaGuardMs?: number;
}

/** A job taken on a primary that a failover then discarded: it is another worker's now. */
export class JobLostInFailoverError extends Error {
  override name = 'JobLostInFailoverError';
}

/** Long enough to ride out a Redis failover or a briefly full disk, short of the lock's patience. */
export const STORAGE_RETRY_MS = 20_000;

/** BullMQ's reason for a job whose worker kept dying under it. */
export const STALLED_REASON = 'job stalled more than allowable limit';

/** Failures a retry would only repeat: they end the job at once. */
const FINAL_ERRORS = new Set([
  'PermanentCycleError',
  'SoftTimeLimit',
  'HardTimeLimit',
  'TokenBudgetExceededError',
  'StructuredOutputError',
  'LlmRequestRejectedError',
  'UnrecoverableError',
]);

export function dueTimeOf(job: Pick<Job, 'id' | 'timestamp'>, data: Pick<CycleJobData, 'requested_at'>): number {
  return dueTimeFromJobId(job.id) ?? (data.requested_at ? Date.parse(data.requested_at) : job.timestamp);
}

function overlapPair(data: CycleJobData): string | null {
  return data.schedule_id && data.overlap === 'skip' ? `${data.schedule_id}:${data.ticker}` : null;
}

/** Runs one trading-cycle job: validate, admit (gate, staleness, overlap), analyse once, settle, record once. */
export function createCycleProcessor(deps: CycleProcessorDeps, queue: QueueName) {
  const now = deps.now ?? Date.now;
  const limits = effectiveQueue(queue, deps.config);
  const store = { redis: deps.redis, keys: deps.keys, resultsDir: deps.config.RESULTS_DIR, history: Boolean(deps.config.DATABASE_URL) };

  const settle = deps.settle ?? settleNothing;
  const storageRetry = (logger: Logger) => ({ budgetMs: deps.storageRetryMs ?? STORAGE_RETRY_MS, logger, stop: () => deps.abandoned?.() ?? false });
  // Analyses not yet on record (Redis refusing writes longer than the retry budget): a later attempt
  // in this process still reuses them instead of analysing again.
  const analyses = new Map<string, CycleResult>();
  const remember = (jobId: string, analysis: CycleResult) => {
    analyses.set(jobId, analysis);
    if (analyses.size > 100) analyses.delete(analyses.keys().next().value!);
  };

  const health: ReplicaHealth = { degraded: false };
  const guard = (logger: Logger): ReplicaGuardDeps => ({
    redis: deps.redis,
    slotKey: deps.config.QUEUE_PREFIX,
    health,
    replicas: ackReplicas(deps.config),
    ackTimeoutMs: deps.config.REDIS_ACK_TIMEOUT_MS,
    lockMs: deps.config.WORKER_LOCK_MS,
    logger,
    ...(deps.replicaGuardMs ? { budgetMs: deps.replicaGuardMs } : {}),
  });

  return async (job: Job, token?: string, signal?: AbortSignal): Promise<JobOutcome> => {
    const jobId = String(job.id);
    const attempt = job.attemptsMade + 1;
    const raw = (job.data ?? {}) as Record<string, unknown>;
    const log = jobLogger(deps.logger, { jobId, agent: String(raw.agent ?? '?'), ticker: String(raw.ticker ?? '?'), attempt, queue });
    const parsed = cycleJobDataSchema.safeParse(raw);
    if (!parsed.success) {
      const why = parsed.error.issues.map((i) => `${i.path.join('.') || '(data)'}: ${i.message}`).join('; ');
      log.error({ issues: parsed.error.issues }, 'invalid job data: not retried');
      throw new UnrecoverableError(`invalid job data: ${why}`);
    }
    const data = parsed.data;
    const dueAt = dueTimeOf(job, data);
    const record = (outcome: FinalOutcome) => recordFinalOutcome(store, { id: jobId, queue, data, dueAt, processedOn: job.processedOn, createdAt: job.timestamp, attempts: attempt }, outcome);
    // Both in flight at once: one round trip's wait instead of two on every job.
    const [, tombstone] = await Promise.all([
      indexJob(deps.redis, deps.keys, { queue, jobId, createdAt: job.timestamp, ticker: data.ticker, agent: data.agent, schedule: data.schedule_id }),
      readTombstone(deps.redis, deps.keys, jobId),
    ]);

    // BullMQ fails a job that stalled too often, except a job scheduler's run, which it re-queues forever.
    if (job.stalledCounter > deps.config.WORKER_MAX_STALLED) {
      await record({ status: 'failed', error: STALLED_REASON });
      const stuck = overlapPair(data);
      if (stuck) await releaseOverlapLease(deps.redis, deps.keys, stuck, jobId);
      log.error({ stalled: job.stalledCounter }, 'cycle failed: it stalled too often (its worker kept dying)');
      throw new UnrecoverableError(STALLED_REASON);
    }
    if (tombstone) {
      await record({ status: 'cancelled', error: CANCEL_REASON });
      log.info('cycle cancelled before it started');
      return { status: 'cancelled', reason: CANCEL_REASON };
    }
    const admission = admit(data, dueAt, now(), deps.calendar);
    if (!admission.admit) {
      await record({ status: 'skipped', reason: admission.reason!, detail: admission.detail });
      log.info({ reason: admission.reason, detail: admission.detail }, 'cycle skipped');
      return { status: 'skipped', reason: admission.reason!, detail: admission.detail };
    }
    // With replicas to confirm (Sentinel), a job is analysed only once a replica knows it is ours: one
    // taken on a primary that a failover is discarding runs on the new primary instead, not twice.
    const start = await confirmJobStart(guard(log), `${deps.config.QUEUE_PREFIX}:${queue}:${jobId}:lock`, token);
    if (start === 'lost') {
      log.warn('job taken on a primary a failover discarded; left to the worker that holds it now');
      throw new JobLostInFailoverError(`job ${jobId} is no longer this worker's after a Redis failover`);
    }
    const softMs = data.soft_time_limit_ms ?? limits.softTimeLimitMs;
    const hardMs = Math.max(softMs, data.hard_time_limit_ms ?? limits.hardTimeLimitMs);
    const pair = overlapPair(data);
    if (pair) {
      const holder = await acquireOverlapLease(deps.redis, deps.keys, pair, jobId, hardMs + 60_000);
      if (holder) {
        const detail = `cycle ${holder} for ${pair} is still running`;
        await record({ status: 'skipped', reason: 'overlap', detail });
        log.info({ runningJob: holder }, 'cycle skipped: previous one still running');
        return { status: 'skipped', reason: 'overlap', detail };
      }
    }

    log.info({ trigger: data.trigger, scheduleId: data.schedule_id, dueAt: new Date(dueAt).toISOString() }, 'cycle started');
    const started = now();
    try {
      // One analysis per job id: a re-run (retry after a storage fault, stalled recovery, lost lock)
      // reuses the one on record and completes only the side effects still missing.
      let analysis = analyses.get(jobId) ?? (await loadStoredAnalysis(deps.redis, deps.keys, jobId));
      if (analysis) {
        log.info({ decision: analysis.decision }, 'analysis already done for this job: completing its side effects only');
      } else {
        analysis = await deps.runner.run({
          data,
          jobId,
          attempt,
          queue,
          softTimeLimitMs: softMs,
          hardTimeLimitMs: hardMs,
          signal: signal ?? new AbortController().signal,
          // Logged where the cycle runs (the child in sandbox mode), so each stage is logged once.
          // Progress is for people watching: a Redis refusing writes must not fail the analysis.
          onProgress: async (stage, percent) => {
            await job.updateProgress({ stage, percent }).catch((err: Error) => log.warn({ err: err.message, stage }, 'progress not saved'));
            await writeJobLog(job, `progress ${percent}% ${stage}`);
          },
        });
        remember(jobId, analysis);
      }
      // Set-if-absent before any side effect; should another run have stored first, its analysis wins.
      const fresh = analysis;
      // Confirmed by a replica before any side effect: if this job's completion is lost in a failover,
      // its re-run on the new primary finds the analysis instead of analysing again.
      analysis = await retryStorage('storing the analysis', async () => (await writeConfirmed(guard(log), 'the analysis', () => storeAnalysisOnce(deps.redis, deps.keys, jobId, fresh))).value, storageRetry(log));
      const result = await retryStorage('settling the decision', () => settle(analysis, data, { redis: deps.redis, config: deps.config, jobId }), storageRetry(log));
      await retryStorage('recording the outcome', () => record({ status: 'completed', result }), storageRetry(log));
      analyses.delete(jobId);
      log.info({ decision: result.decision, confidence: result.confidence, ms: now() - started }, 'cycle completed');
      return { status: 'completed', result };
    } catch (err) {
      const e = err as Error;
      if (deps.abandoned?.()) {
        log.warn('shutdown deadline passed: cycle left for stalled recovery');
        return new Promise<never>(() => {});
      }
      if (signal?.aborted && String(signal.reason ?? '').startsWith('cancelled')) {
        await record({ status: 'cancelled', error: String(signal.reason) });
        log.info('cycle cancelled while running');
        throw new UnrecoverableError(`cancelled: ${String(signal.reason)}`);
      }
      const final = FINAL_ERRORS.has(e.name) || attempt >= (job.opts.attempts ?? 1);
      if (final) await record({ status: 'failed', error: e.message });
      log.warn({ err: e.message, errorName: e.name, final }, final ? 'cycle failed' : 'cycle attempt failed; will retry');
      if (FINAL_ERRORS.has(e.name)) throw Object.assign(new UnrecoverableError(e.message), { cause: e });
      throw e;
    } finally {
      if (pair && !deps.abandoned?.()) await releaseOverlapLease(deps.redis, deps.keys, pair, jobId).catch(() => undefined);
    }
  };
}

/**
 * A job that kept killing its worker is failed by BullMQ without calling our processor: record that
 * outcome (once) and free its overlap lease, so the schedule's last run says why.
 */
export async function recordStalledFailure(deps: Pick<CycleProcessorDeps, 'redis' | 'keys' | 'config' | 'logger'>, queue: QueueName, job: Job): Promise<boolean> {
  const parsed = cycleJobDataSchema.safeParse(job.data);
  if (!parsed.success) return false;
  const data = parsed.data;
  const store = { redis: deps.redis, keys: deps.keys, resultsDir: deps.config.RESULTS_DIR, history: Boolean(deps.config.DATABASE_URL) };
  const error = job.failedReason || STALLED_REASON;
  const first = await recordFinalOutcome(store, { id: String(job.id), queue, data, dueAt: dueTimeOf(job, data), processedOn: job.processedOn, createdAt: job.timestamp, attempts: job.attemptsMade }, { status: 'failed', error });
  const pair = overlapPair(data);
  if (pair) await releaseOverlapLease(deps.redis, deps.keys, pair, String(job.id));
  if (first) {
    jobLogger(deps.logger, { jobId: String(job.id), agent: data.agent, ticker: data.ticker, attempt: job.attemptsMade, queue }).error({ err: error }, 'cycle failed: it stalled too often (its worker kept dying)');
  }
  return first;
}

import { UnrecoverableError, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { MarketCalendar } from '../calendar/index.ts';
import {
  ackEnabled,
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
import { writeJobLog, type AttemptRecorder } from './attempt-log.ts';
import { ANALYSIS_TTL_S, analysisKey, parseAnalysis, storeAnalysisOnce } from './analysis-store.ts';
import { settleNothing, settlesNothing, type SettleFunction } from './cycle-execution.ts';
import { retryStorage } from './storage-retry.ts';
import type { CycleRunner } from './cycle-runner.ts';
import { CANCEL_REASON, tombstoneKey } from './job-control.ts';
import { indexedWhenEnqueued, indexWrites } from './job-index.ts';
import { dueTimeFromJobId, nyDate } from './job-view.ts';
import { OnceWrites } from './once-writes.ts';
import { overlapLeaseKey, releaseOverlapLease } from './overlap-lease.ts';
import { startJob } from './job-start.ts';
import { confirmJobStart, writeConfirmed, type ReplicaGuardDeps, type ReplicaHealth } from './replica-guard.ts';
import { createResultFileWriter, type ResultFileWriter } from './result-files.ts';
import { afterFinalOutcome, finalOutcomeBatch, recordFinalOutcome, sendFinalOutcome, type FinalJob, type FinalOutcome } from './run-recorder.ts';
import type { CompletionWrites } from './completion-writes.ts';

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
  /** Writes result files after completion (one per worker process, flushed at shutdown); default: its own. */
  results?: ResultFileWriter;
  /** How long the replica guards wait for a replica (default REPLICA_GUARD_MS). */
  replicaGuardMs?: number;
  /**
   * The Worker's completion, when it can carry a completed job's end (its backend is this one's):
   * the end is then recorded in the same Lua call that completes the job.
   */
  completions?: CompletionWrites;
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
  'LlmRefusalError',
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
  const results = deps.results ?? createResultFileWriter({ dir: deps.config.RESULTS_DIR, logger: deps.logger, pending: { redis: deps.redis, keys: deps.keys } });
  const store = { redis: deps.redis, keys: deps.keys, results, history: Boolean(deps.config.DATABASE_URL) };

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

  return async (job: Job, token?: string, signal?: AbortSignal, attempt?: AttemptRecorder): Promise<JobOutcome> => {
    const jobId = String(job.id);
    const attemptNo = job.attemptsMade + 1;
    const raw = (job.data ?? {}) as Record<string, unknown>;
    const log = jobLogger(deps.logger, { jobId, agent: String(raw.agent ?? '?'), ticker: String(raw.ticker ?? '?'), attempt: attemptNo, queue });
    const parsed = cycleJobDataSchema.safeParse(raw);
    if (!parsed.success) {
      const why = parsed.error.issues.map((i) => `${i.path.join('.') || '(data)'}: ${i.message}`).join('; ');
      log.error({ issues: parsed.error.issues }, 'invalid job data: not retried');
      throw new UnrecoverableError(`invalid job data: ${why}`);
    }
    const dueAt = dueTimeOf(job, parsed.data);
    // A job without a date is for the New York day it was due (or asked for), on every attempt: a retry
    // or redelivery after midnight analyses and files that day, never the next one.
    const data: CycleJobData = { ...parsed.data, date: parsed.data.date ?? nyDate(dueAt) };
    const finalJob: FinalJob = { id: jobId, queue, data, dueAt, processedOn: job.processedOn, createdAt: job.timestamp, attempts: attemptNo };
    const pair = overlapPair(data);
    const leaseKey = pair ? overlapLeaseKey(deps.keys, pair) : null;
    let leaseHeld = false;
    /**
     * Records the final outcome in one Lua call, with this attempt's end and the lease's release
     * when the processor returns `returned` (a thrown error's attempt end is the wrapper's).
     */
    const withEnd = (batch: OnceWrites, returned?: JobOutcome) => {
      if (leaseHeld && leaseKey) batch.alsoWrite([['DELIFEQ', leaseKey, jobId]]);
      if (returned && attempt) batch.alsoWrite(attempt.endWrites({ outcome: returned }));
      return batch;
    };
    const record = async (outcome: FinalOutcome, returned?: JobOutcome, batch = new OnceWrites()) => {
      const answer = await sendFinalOutcome(store, finalJob, outcome, withEnd(batch, returned));
      if (answer.storedAnalysis !== null) return answer;
      if (leaseKey) leaseHeld = false;
      if (returned) attempt?.endSent();
      return answer;
    };

    /**
     * Leaves a completed job's end to BullMQ's completion, which records it in the same Lua call (no
     * Worker of ours, or no token: false, and the caller records it itself).
     */
    const holdEnd = (returned: Extract<JobOutcome, { status: 'completed' }>, batch: OnceWrites): boolean => {
      if (!deps.completions || !token) return false;
      const outcome: FinalOutcome = { status: 'completed', result: returned.result };
      const heldLease = leaseHeld;
      finalOutcomeBatch(store, finalJob, outcome, withEnd(batch, returned));
      deps.completions.hold(jobId, token, {
        batch,
        logger: log,
        retry: (step) => retryStorage('recording the outcome', step, storageRetry(log)),
        after: () => afterFinalOutcome(store, finalJob, outcome, batch),
        // Another run's analysis won (as the one-call end below handles it): the job completes with that one.
        conflict: async (stored) => {
          const result = parseAnalysis(stored);
          const again = { status: 'completed', result } as const;
          leaseHeld = heldLease;
          await retryStorage('recording the outcome', () => record({ status: 'completed', result }, again), storageRetry(log));
          log.info({ decision: result.decision }, 'another run of this job stored its analysis first: completed with that one');
          return again;
        },
      });
      leaseHeld = false;
      attempt?.endSent();
      return true;
    };

    const stalled = job.stalledCounter > deps.config.WORKER_MAX_STALLED;
    const admission = admit(data, dueAt, now(), deps.calendar);
    const softMs = data.soft_time_limit_ms ?? limits.softTimeLimitMs;
    const hardMs = Math.max(softMs, data.hard_time_limit_ms ?? limits.hardTimeLimitMs);
    const wantLease = !stalled && admission.admit && leaseKey !== null;

    // Started with its fetch (start-on-fetch.ts): the attempt's start is on record, the reads answered.
    const fetched = deps.completions?.starts?.take(jobId);
    if (fetched) attempt?.startedOnFetch(fetched.listLength, fetched.startedAt);
    // Otherwise the start of a job in one Lua call: the attempt's start, the index (a scheduler's runs only:
    // other jobs were indexed when enqueued), the cancel tombstone, an analysis on record, the overlap lease.
    const begun = fetched && !wantLease && indexedWhenEnqueued(jobId) ? { firstReply: null, reads: [fetched.tombstone, fetched.analysis], lease: undefined } : await startJob(deps.redis, {
      bestEffort: fetched ? [] : (attempt?.startWrites() ?? []),
      writes: indexedWhenEnqueued(jobId)
        ? []
        : indexWrites(deps.keys, { queue, jobId, createdAt: job.timestamp, ticker: data.ticker, agent: data.agent, schedule: data.schedule_id }, { trim: false }),
      reads: [tombstoneKey(deps.keys, jobId), analysisKey(deps.keys, jobId)],
      ...(wantLease ? { lease: { key: leaseKey!, holder: jobId, ttlMs: hardMs + 60_000 } } : {}),
    });
    // The attempt log is best effort; the index, tombstone, analysis and lease are not.
    if (begun.firstReply !== null) attempt?.started(begun.firstReply);
    const [tombstone = null, storedAnalysis = null] = begun.reads;
    let holder: string | null = null;
    if (begun.lease) {
      leaseHeld = begun.lease.holder === jobId;
      if (!leaseHeld) holder = begun.lease.holder;
    }

    // BullMQ fails a job that stalled too often, except a job scheduler's run, which it re-queues forever.
    if (stalled) {
      // Its earlier attempt may still hold the pair's lease.
      leaseHeld = leaseKey !== null;
      await record({ status: 'failed', error: STALLED_REASON });
      log.error({ stalled: job.stalledCounter }, 'cycle failed: it stalled too often (its worker kept dying)');
      throw new UnrecoverableError(STALLED_REASON);
    }
    if (tombstone) {
      const returned: JobOutcome = { status: 'cancelled', reason: CANCEL_REASON };
      await record({ status: 'cancelled', error: CANCEL_REASON }, returned);
      log.info('cycle cancelled before it started');
      return returned;
    }
    if (!admission.admit) {
      const returned: JobOutcome = { status: 'skipped', reason: admission.reason!, detail: admission.detail };
      await record({ status: 'skipped', reason: admission.reason!, detail: admission.detail }, returned);
      log.info({ reason: admission.reason, detail: admission.detail }, 'cycle skipped');
      return returned;
    }
    // With replicas to confirm (Sentinel), a job is analysed only once a replica knows it is ours: one
    // taken on a primary that a failover is discarding runs on the new primary instead, not twice.
    const start = await confirmJobStart(guard(log), `${deps.config.QUEUE_PREFIX}:${queue}:${jobId}:lock`, token);
    if (start === 'lost') {
      log.warn('job taken on a primary a failover discarded; left to the worker that holds it now');
      throw new JobLostInFailoverError(`job ${jobId} is no longer this worker's after a Redis failover`);
    }
    if (holder) {
      const detail = `cycle ${holder} for ${pair} is still running`;
      const returned: JobOutcome = { status: 'skipped', reason: 'overlap', detail };
      await record({ status: 'skipped', reason: 'overlap', detail }, returned);
      log.info({ runningJob: holder }, 'cycle skipped: previous one still running');
      return returned;
    }

    log.info({ trigger: data.trigger, scheduleId: data.schedule_id, dueAt: new Date(dueAt).toISOString() }, 'cycle started');
    const started = now();
    try {
      // One analysis per job id: a re-run (retry after a storage fault, stalled recovery, lost lock)
      // reuses the one on record and completes only the side effects still missing.
      const onRecord = storedAnalysis !== null ? parseAnalysis(storedAnalysis) : null;
      let analysis = onRecord ?? analyses.get(jobId);
      if (analysis) {
        log.info({ decision: analysis.decision }, 'analysis already done for this job: completing its side effects only');
      } else {
        analysis = await deps.runner.run({
          data,
          jobId,
          attempt: attemptNo,
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
      const completed = (result: CycleResult) => {
        analyses.delete(jobId);
        log.info({ decision: result.decision, confidence: result.confidence, ms: now() - started }, 'cycle completed');
        return { status: 'completed', result } as const;
      };
      // With replicas to confirm, the analysis is stored and confirmed on its own first (below), so the
      // one-call end is for installs without a failover to survive.
      if (settlesNothing(settle, data) && !ackEnabled(ackReplicas(deps.config))) {
        // Nothing happens between storing the analysis and recording it: both in the one Lua call
        // (the analysis SET NX first; another run's analysis on record wins and nothing is written).
        const fresh = analysis;
        const returned = { status: 'completed', result: fresh } as const;
        // A new batch per try: a retried call must not carry the writes of the one before twice.
        const endBatch = () => (onRecord ? new OnceWrites() : new OnceWrites().storeAnalysis(analysisKey(deps.keys, jobId), fresh, ANALYSIS_TTL_S));
        if (holdEnd(returned, endBatch())) return completed(fresh);
        const answer = await retryStorage(
          'recording the outcome',
          () => record({ status: 'completed', result: fresh }, returned, endBatch()),
          storageRetry(log),
        );
        if (answer.storedAnalysis === null) return completed(fresh);
        analysis = parseAnalysis(answer.storedAnalysis);
      }
      // Set-if-absent before any side effect; should another run have stored first, its analysis wins.
      const fresh = analysis;
      // Confirmed by the replicas (Sentinel) before any side effect: if this job's completion is lost in a
      // failover, its re-run on the new primary finds the analysis instead of analysing again.
      analysis =
        onRecord && onRecord === fresh
          ? fresh
          : await retryStorage('storing the analysis', async () => (await writeConfirmed(guard(log), 'the analysis', () => storeAnalysisOnce(deps.redis, deps.keys, jobId, fresh))).value, storageRetry(log));
      const settled = analysis;
      const result = await retryStorage('settling the decision', () => settle(settled, data, { redis: deps.redis, config: deps.config, jobId }), storageRetry(log));
      if (holdEnd({ status: 'completed', result }, new OnceWrites())) return completed(result);
      await retryStorage('recording the outcome', () => record({ status: 'completed', result }, { status: 'completed', result }), storageRetry(log));
      return completed(result);
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
      const final = FINAL_ERRORS.has(e.name) || attemptNo >= (job.opts.attempts ?? 1);
      if (final) await record({ status: 'failed', error: e.message });
      log.warn({ err: e.message, errorName: e.name, final }, final ? 'cycle failed' : 'cycle attempt failed; will retry');
      if (FINAL_ERRORS.has(e.name)) throw Object.assign(new UnrecoverableError(e.message), { cause: e });
      throw e;
    } finally {
      if (leaseHeld && pair && !deps.abandoned?.()) await releaseOverlapLease(deps.redis, deps.keys, pair, jobId).catch(() => undefined);
    }
  };
}

/**
 * A job that kept killing its worker is failed by BullMQ without calling our processor: record that
 * outcome (once) and free its overlap lease, so the schedule's last run says why.
 */
export async function recordStalledFailure(deps: Pick<CycleProcessorDeps, 'redis' | 'keys' | 'config' | 'logger' | 'results'>, queue: QueueName, job: Job): Promise<boolean> {
  const parsed = cycleJobDataSchema.safeParse(job.data);
  if (!parsed.success) return false;
  const data = parsed.data;
  const store = { redis: deps.redis, keys: deps.keys, results: deps.results ?? createResultFileWriter({ dir: deps.config.RESULTS_DIR, logger: deps.logger, pending: { redis: deps.redis, keys: deps.keys } }), history: Boolean(deps.config.DATABASE_URL) };
  const error = job.failedReason || STALLED_REASON;
  const first = await recordFinalOutcome(store, { id: String(job.id), queue, data, dueAt: dueTimeOf(job, data), processedOn: job.processedOn, createdAt: job.timestamp, attempts: job.attemptsMade }, { status: 'failed', error });
  const pair = overlapPair(data);
  if (pair) await releaseOverlapLease(deps.redis, deps.keys, pair, String(job.id));
  if (first) {
    jobLogger(deps.logger, { jobId: String(job.id), agent: data.agent, ticker: data.ticker, attempt: job.attemptsMade, queue }).error({ err: error }, 'cycle failed: it stalled too often (its worker kept dying)');
  }
  return first;
}

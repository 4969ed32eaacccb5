import type { Redis } from 'ioredis';
import { counterWrite, cycleMetricsWrites, eventWrite, jobSpend, scheduleRunWrites, schedulerKey, type FinalJob, type FinalOutcome, type ProductKeys, type RedisWrite } from '../core/index.ts';
import { cycleRecord, outboxKey } from '../history/index.ts';
import { OnceWrites, type OnceWritesAnswer } from './once-writes.ts';
import { pendingResultFilesKey, type ResultFileWriter } from './result-files.ts';

export type { FinalJob, FinalOutcome } from '../core/index.ts';

const DAY_S = 24 * 3600;
export const RECORDED_TTL_S = 8 * DAY_S;

export const recordedKey = (keys: ProductKeys, jobId: string) => keys.custom('recorded', jobId);

export interface RecordOptions {
  /** DATABASE_URL is set: queue the outcome's record for PostgreSQL. */
  history?: boolean;
}

/**
 * The writes that record a job's final outcome: the schedule's last run and its run list, counters,
 * metrics and the skip event. Sent once per job id, behind the record-once marker.
 */
export function finalOutcomeWrites(keys: ProductKeys, job: FinalJob, outcome: FinalOutcome, now = Date.now(), opts: RecordOptions = {}): RedisWrite[] {
  const { data } = job;
  const writes = cycleMetricsWrites(keys, {
    queue: job.queue,
    agent: data.agent,
    schedule: data.schedule_id,
    ticker: data.ticker,
    trigger: data.trigger,
    status: outcome.status,
    startedAt: job.processedOn,
    endedAt: now,
    dueAt: job.dueAt,
    // The whole job's cost, once per job (the LLM counters counted each call, of every attempt, as it ended).
    costUsd: outcome.status === 'completed' ? jobSpend(outcome.result).cost_usd : 0,
    costUnknown: outcome.status === 'completed' && jobSpend(outcome.result).cost_unknown === true,
  });
  if (data.schedule_id) {
    const last = {
      job_id: job.id,
      status: outcome.status,
      due_at: job.dueAt,
      finished_at: new Date(now).toISOString(),
      ...(outcome.status === 'completed' ? { decision: outcome.result.decision } : {}),
      ...(outcome.status === 'skipped' ? { reason: outcome.reason } : {}),
      ...(outcome.status === 'failed' || outcome.status === 'cancelled' ? { reason: outcome.error } : {}),
    };
    writes.push(['HSET', keys.lastRuns, schedulerKey(data.schedule_id, data.ticker), JSON.stringify(last)]);
    writes.push(...scheduleRunWrites(keys, data.schedule_id, { ...last, ticker: data.ticker, trigger: data.trigger }));
  }
  // LLM tokens and cost are counted per call by the engine, so failed and aborted cycles count too.
  if (outcome.status === 'completed') writes.push(counterWrite(keys, 'cycles_completed_total', { queue: job.queue, agent: data.agent }));
  else if (outcome.status === 'skipped') {
    writes.push(counterWrite(keys, 'cycles_skipped_total', { schedule: data.schedule_id ?? '(none)', reason: outcome.reason }));
    writes.push(
      eventWrite(keys, 'cycle.skipped', { job_id: job.id, queue: job.queue, schedule_id: data.schedule_id, ticker: data.ticker, agent: data.agent, reason: outcome.reason, detail: outcome.detail }),
    );
  } else writes.push(counterWrite(keys, 'cycles_failed_total', { queue: job.queue, agent: data.agent }));
  // Durable history: the record joins the outbox behind the same marker, so it is queued exactly once and
  // never lost between the marker and the queue; PostgreSQL being slow or away cannot touch the job.
  if (opts.history) writes.push(['RPUSH', outboxKey(keys), JSON.stringify(cycleRecord(job, outcome, now))]);
  return writes;
}

/** Adds the record-once step of a job's final outcome to a batch. */
export function addFinalOutcome(batch: OnceWrites, keys: ProductKeys, job: FinalJob, outcome: FinalOutcome, opts: RecordOptions = {}): OnceWrites {
  return batch.onceFor(recordedKey(keys, job.id), outcome.status, RECORDED_TTL_S, finalOutcomeWrites(keys, job, outcome, Date.now(), opts));
}

/**
 * Records a job's final outcome exactly once per job id, in one Lua call with whatever else the batch
 * holds (the analysis's SET NX, the attempt's end, the lease's release): a per-job marker (SET NX)
 * makes a second run of the same job id (retry after a crash mid-record, recovery) a no-op, and the
 * marker and its writes go together. A completed outcome's result file is queued after, every time
 * (idempotent), so it follows what Redis holds even when an earlier run's write was lost.
 * When the batch's analysis lost to one already on record, nothing was written: the answer says so.
 */
export async function sendFinalOutcome(
  deps: { redis: Redis; keys: ProductKeys; results: ResultFileWriter } & RecordOptions,
  job: FinalJob,
  outcome: FinalOutcome,
  batch = new OnceWrites(),
): Promise<OnceWritesAnswer> {
  const answer = await finalOutcomeBatch(deps, job, outcome, batch).send(deps.redis);
  if (answer.storedAnalysis === null) await afterFinalOutcome(deps, job, outcome, batch);
  return answer;
}

/** The batch sendFinalOutcome sends, for a caller that sends it with other work (BullMQ's completion). */
export function finalOutcomeBatch(deps: { keys: ProductKeys } & RecordOptions, job: FinalJob, outcome: FinalOutcome, batch = new OnceWrites()): OnceWrites {
  if (outcome.status === 'completed') batch.keepResult(pendingResultFilesKey(deps.keys), job.id, outcome.result);
  return addFinalOutcome(batch, deps.keys, job, outcome, deps);
}

/** Once the batch is on record: a completed outcome's result file is queued. */
export async function afterFinalOutcome(deps: { results: ResultFileWriter }, job: FinalJob, outcome: FinalOutcome, batch: OnceWrites): Promise<void> {
  if (outcome.status === 'completed') await deps.results.write(job.id, outcome.result, batch.jsonOf(outcome.result));
}

/** sendFinalOutcome on its own: true when this call recorded the outcome (the first for the job id). */
export async function recordFinalOutcome(deps: { redis: Redis; keys: ProductKeys; results: ResultFileWriter } & RecordOptions, job: FinalJob, outcome: FinalOutcome): Promise<boolean> {
  return (await sendFinalOutcome(deps, job, outcome)).first;
}

/** A job re-queued by an operator is a new run: its next final outcome is recorded again. */
export async function forgetRecordedOutcome(redis: Redis, keys: ProductKeys, jobId: string): Promise<void> {
  await redis.del(recordedKey(keys, jobId));
}

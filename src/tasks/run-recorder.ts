import type { Redis } from 'ioredis';
import { incrementCounter, publishEvent, recordCycleMetrics, recordScheduleRun, schedulerKey, type CycleJobData, type CycleResult, type ProductKeys, type QueueName } from '../core/index.ts';
import { cycleRecord, markAndQueue } from '../history/index.ts';
import { writeResultFile } from './result-files.ts';

/** What is recorded for a job once, whatever happens to it (retries and stalled recoveries included). */
export type FinalOutcome =
  | { status: 'completed'; result: CycleResult }
  | { status: 'skipped'; reason: string; detail?: string }
  | { status: 'failed' | 'cancelled'; error: string };

const DAY_S = 24 * 3600;

/**
 * Records a job's final outcome exactly once per job id: result file, the schedule's last run,
 * counters and the skip event. A per-job marker (SET NX) makes a second run of the same job id
 * (retry after a crash mid-record, recovery) a no-op here.
 */
export async function recordFinalOutcome(
  deps: { redis: Redis; keys: ProductKeys; resultsDir: string; /** DATABASE_URL is set: queue the record for PostgreSQL. */ history?: boolean },
  job: { id: string; queue: QueueName; data: CycleJobData; dueAt: number; processedOn?: number; createdAt?: number; attempts?: number },
  outcome: FinalOutcome,
): Promise<boolean> {
  const { redis, keys } = deps;
  // The file first: writing it is idempotent (same path, atomic rename), so a crash before the marker
  // below only means the next run of this job id writes it again — never a marker without its file.
  if (outcome.status === 'completed') await writeResultFile(deps.resultsDir, job.id, outcome.result);
  const marker = { key: keys.custom('recorded', job.id), value: outcome.status, ttlS: 8 * DAY_S };
  // With durable history the marker and the outbox entry are set together (one script): the record
  // waits in Redis for PostgreSQL, so neither a slow database nor a crash here can lose it.
  const first = deps.history
    ? await markAndQueue(redis, keys, marker, cycleRecord(job, outcome, Date.now()))
    : (await redis.set(marker.key, marker.value, 'EX', marker.ttlS, 'NX')) === 'OK';
  if (!first) return false;
  const { data } = job;
  // The writes after the marker are independent: send them together and wait once.
  const pending: Array<Promise<unknown>> = [];
  pending.push(recordCycleMetrics(redis, keys, { queue: job.queue, agent: data.agent, schedule: data.schedule_id, ticker: data.ticker, trigger: data.trigger, status: outcome.status, startedAt: job.processedOn, endedAt: Date.now(), dueAt: job.dueAt, costUsd: outcome.status === 'completed' ? outcome.result.usage.cost_usd : 0 }));
  if (data.schedule_id) {
    const last = {
      job_id: job.id,
      status: outcome.status,
      due_at: job.dueAt,
      finished_at: new Date().toISOString(),
      ...(outcome.status === 'completed' ? { decision: outcome.result.decision } : {}),
      ...(outcome.status === 'skipped' ? { reason: outcome.reason } : {}),
      ...(outcome.status === 'failed' || outcome.status === 'cancelled' ? { reason: outcome.error } : {}),
    };
    pending.push(redis.hset(keys.lastRuns, schedulerKey(data.schedule_id, data.ticker), JSON.stringify(last)));
    pending.push(recordScheduleRun(redis, keys, data.schedule_id, { ...last, ticker: data.ticker, trigger: data.trigger }));
  }
  switch (outcome.status) {
    case 'completed': {
      // LLM tokens and cost are counted per call by the engine, so failed and aborted cycles count too.
      pending.push(incrementCounter(redis, keys, 'cycles_completed_total', { queue: job.queue, agent: data.agent }));
      break;
    }
    case 'skipped':
      await incrementCounter(redis, keys, 'cycles_skipped_total', { schedule: data.schedule_id ?? '(none)', reason: outcome.reason });
      await publishEvent(redis, keys, 'cycle.skipped', {
        job_id: job.id,
        queue: job.queue,
        schedule_id: data.schedule_id,
        ticker: data.ticker,
        agent: data.agent,
        reason: outcome.reason,
        detail: outcome.detail,
      });
      break;
    default:
      pending.push(incrementCounter(redis, keys, 'cycles_failed_total', { queue: job.queue, agent: data.agent }));
  }
  await Promise.all(pending);
  return true;
}

/** A job re-queued by an operator is a new run: its next final outcome is recorded again. */
export async function forgetRecordedOutcome(redis: Redis, keys: ProductKeys, jobId: string): Promise<void> {
  await redis.del(keys.custom('recorded', jobId));
}

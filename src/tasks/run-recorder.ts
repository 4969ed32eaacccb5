import type { Redis } from 'ioredis';
import { counterField, countersKey, publishEvent, schedulerKey, type CycleJobData, type CycleResult, type ProductKeys, type QueueName } from '../core/index.ts';
import { writeResultFile } from './result-files.ts';

/** What is recorded for a job once, whatever happens to it (retries and stalled recoveries included). */
export type FinalOutcome =
  | { status: 'completed'; result: CycleResult }
  | { status: 'skipped'; reason: string; detail?: string }
  | { status: 'failed' | 'cancelled'; error: string };

const DAY_S = 24 * 3600;

/** SET NX the per-job marker; only when it was absent, write the schedule's last run and count the outcome. */
const RECORD_ONCE = `
if not redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2], 'NX') then return 0 end
if ARGV[3] ~= '' then redis.call('HSET', KEYS[2], ARGV[3], ARGV[4]) end
redis.call('HINCRBYFLOAT', KEYS[3], ARGV[5], 1)
return 1`;

/**
 * Records a job's final outcome exactly once per job id: result file, the schedule's last run,
 * counters and the skip event. A per-job marker (SET NX) makes a second run of the same job id
 * (retry after a crash mid-record, recovery) a no-op here.
 */
export async function recordFinalOutcome(
  deps: { redis: Redis; keys: ProductKeys; resultsDir: string },
  job: { id: string; queue: QueueName; data: CycleJobData; dueAt: number },
  outcome: FinalOutcome,
): Promise<boolean> {
  const { redis, keys } = deps;
  // The file first: writing it is idempotent (same path, atomic rename), so a crash before the marker
  // below only means the next run of this job id writes it again — never a marker without its file.
  if (outcome.status === 'completed') await writeResultFile(deps.resultsDir, job.id, outcome.result);
  const { data } = job;
  let last = '';
  if (data.schedule_id) {
    last = JSON.stringify({
      job_id: job.id,
      status: outcome.status,
      due_at: job.dueAt,
      finished_at: new Date().toISOString(),
      ...(outcome.status === 'completed' ? { decision: outcome.result.decision } : {}),
      ...(outcome.status === 'skipped' ? { reason: outcome.reason } : {}),
      ...(outcome.status === 'failed' || outcome.status === 'cancelled' ? { reason: outcome.error } : {}),
    });
  }
  // LLM tokens and cost are counted per call by the engine, so failed and aborted cycles count too.
  const counter =
    outcome.status === 'completed'
      ? counterField('cycles_completed_total', { queue: job.queue, agent: data.agent })
      : outcome.status === 'skipped'
        ? counterField('cycles_skipped_total', { schedule: data.schedule_id ?? '(none)', reason: outcome.reason })
        : counterField('cycles_failed_total', { queue: job.queue, agent: data.agent });
  // Marker, last run and counter in one Lua call: one round trip, and never a marker without its counts.
  const first = await redis.eval(
    RECORD_ONCE,
    3,
    keys.custom('recorded', job.id),
    keys.lastRuns,
    countersKey(keys),
    outcome.status,
    String(8 * DAY_S),
    data.schedule_id ? schedulerKey(data.schedule_id, data.ticker) : '',
    last,
    counter,
  );
  if (first !== 1) return false;
  if (outcome.status === 'skipped') {
    await publishEvent(redis, keys, 'cycle.skipped', {
      job_id: job.id,
      queue: job.queue,
      schedule_id: data.schedule_id,
      ticker: data.ticker,
      agent: data.agent,
      reason: outcome.reason,
      detail: outcome.detail,
    });
  }
  return true;
}

import type { Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { JobOutcome, ProductKeys } from '../core/index.ts';

/**
 * Every attempt of a job — its start, end, outcome, error and stack — kept in Redis beside BullMQ's
 * job hash (which keeps only the last failure), and written as BullMQ job log lines for Bull Board.
 */
export interface AttemptEntry {
  attempt: number;
  started_at: string;
  ended_at: string | null;
  worker: string | null;
  outcome: 'running' | 'completed' | 'skipped' | 'cancelled' | 'failed' | 'lost';
  error?: string;
  error_name?: string;
  stack?: string;
  detail?: string;
}

const RETAIN_S = 8 * 24 * 3600; // a little beyond the 7-day job retention
const MAX_ENTRIES = 100;

export function attemptLogKey(keys: ProductKeys, jobId: string): string {
  return keys.custom('attempts', jobId);
}

/** One BullMQ job log line, prefixed with the time (Bull Board and the job page show them). */
export async function writeJobLog(job: Pick<Job, 'log'>, line: string): Promise<void> {
  await job.log(`${new Date().toISOString()} ${line}`).catch(() => undefined);
}

/** Records an attempt's start; returns the function that records its end. */
export async function beginAttempt(redis: Redis, keys: ProductKeys, job: Job, worker: string | null): Promise<(end: { outcome: JobOutcome } | { error: Error }) => Promise<void>> {
  const key = attemptLogKey(keys, String(job.id));
  const entry: AttemptEntry = { attempt: job.attemptsMade + 1, started_at: new Date().toISOString(), ended_at: null, worker, outcome: 'running' };
  const length = await redis.rpush(key, JSON.stringify(entry));
  await redis.multi().ltrim(key, -MAX_ENTRIES, -1).expire(key, RETAIN_S).exec();
  await writeJobLog(job, `attempt ${entry.attempt} started${worker ? ` on ${worker}` : ''}`);
  const index = Math.min(length, MAX_ENTRIES) - 1;
  return async (end) => {
    const done: AttemptEntry = { ...entry, ended_at: new Date().toISOString() };
    if ('error' in end) {
      // A final failure is re-thrown as BullMQ's UnrecoverableError: its cause holds the real stack.
      const root = end.error.cause instanceof Error ? end.error.cause : end.error;
      Object.assign(done, { outcome: root.message.startsWith('cancelled') ? 'cancelled' : 'failed', error: root.message, error_name: root.name, stack: root.stack });
      await writeJobLog(job, `attempt ${entry.attempt} ${done.outcome}: ${root.name}: ${root.message}`);
    } else {
      const o = end.outcome;
      done.outcome = o.status;
      if (o.status === 'completed') done.detail = `${o.result.decision} (confidence ${o.result.confidence})`;
      else done.detail = o.status === 'skipped' ? [o.reason, o.detail].filter(Boolean).join(': ') : o.reason;
      await writeJobLog(job, `attempt ${entry.attempt} ${o.status}${done.detail ? `: ${done.detail}` : ''}`);
    }
    await redis.lset(key, index, JSON.stringify(done)).catch(() => redis.rpush(key, JSON.stringify(done)));
  };
}

/**
 * The attempts of a job, oldest first. An attempt with no end whose job is no longer running had its
 * worker die under it (BullMQ re-ran it as stalled): it is shown as `lost`.
 */
export async function readAttemptLog(redis: Redis, keys: ProductKeys, jobId: string, running: boolean): Promise<AttemptEntry[]> {
  const entries = (await redis.lrange(attemptLogKey(keys, jobId), 0, -1)).map((raw) => JSON.parse(raw) as AttemptEntry);
  return entries.map((e, i) => (e.outcome === 'running' && (!running || i < entries.length - 1) ? { ...e, outcome: 'lost', error: 'no end recorded: its worker stopped during the attempt' } : e));
}

/**
 * Wraps a cycle processor so each attempt is recorded whatever it does. A processor that never
 * settles (a cycle abandoned at shutdown) leaves its attempt open, which is the truth.
 */
export function recordingAttempts<P extends (job: Job, token?: string, signal?: AbortSignal) => Promise<JobOutcome>>(processor: P, deps: { redis: Redis; keys: ProductKeys; worker: string }): P {
  return (async (job: Job, token?: string, signal?: AbortSignal) => {
    const end = await beginAttempt(deps.redis, deps.keys, job, deps.worker).catch(() => null);
    try {
      const outcome = await processor(job, token, signal);
      await end?.({ outcome }).catch(() => undefined);
      return outcome;
    } catch (err) {
      await end?.({ error: err instanceof Error ? err : new Error(String(err)) }).catch(() => undefined);
      throw err;
    }
  }) as P;
}

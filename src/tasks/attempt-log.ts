import type { Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { JobOutcome, ProductKeys, RedisWrite } from '../core/index.ts';
import { OnceWrites } from './once-writes.ts';

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
/** How many attempts a job's log keeps, and for how long (for a start written elsewhere, start-on-fetch.ts). */
export const ATTEMPT_LOG_LIMITS = { entries: MAX_ENTRIES, retainS: RETAIN_S } as const;

export function attemptLogKey(keys: ProductKeys, jobId: string): string {
  return keys.custom('attempts', jobId);
}

/** One BullMQ job log line, prefixed with the time (Bull Board and the job page show them). */
export async function writeJobLog(job: Pick<Job, 'log'>, line: string): Promise<void> {
  await job.log(`${new Date().toISOString()} ${line}`).catch(() => undefined);
}

/**
 * A job log line as a write, for a batch: the list BullMQ's own `job.log` appends to (`<job key>:logs`).
 * Only for a job this worker holds (active), whose hash therefore exists.
 */
export function jobLogWrite(job: Pick<Job, 'id' | 'queueQualifiedName'>, line: string): RedisWrite {
  return ['RPUSH', `${job.queueQualifiedName}:${job.id}:logs`, `${new Date().toISOString()} ${line}`];
}

export type AttemptEnd = { outcome: JobOutcome } | { error: Error };

/**
 * One attempt's record. Its start and end are writes a caller can send with its own (the cycle
 * processor sends the start with its start-of-job reads and the end with the outcome's Lua call);
 * whatever was not sent that way is sent by `finish`.
 */
export class AttemptRecorder {
  private readonly entry: AttemptEntry;
  private readonly key: string;
  private index = -1;
  private ended = false;

  constructor(
    keys: ProductKeys,
    private readonly job: Job,
    worker: string | null,
  ) {
    this.key = attemptLogKey(keys, String(job.id));
    this.entry = { attempt: job.attemptsMade + 1, started_at: new Date().toISOString(), ended_at: null, worker, outcome: 'running' };
  }

  /** The start's writes; the first one's reply (the list's length) goes to `started`. */
  startWrites(): RedisWrite[] {
    return [
      ['RPUSH', this.key, JSON.stringify(this.entry)],
      ['LTRIM', this.key, String(-MAX_ENTRIES), '-1'],
      ['EXPIRE', this.key, String(RETAIN_S)],
      jobLogWrite(this.job, `attempt ${this.entry.attempt} started${this.entry.worker ? ` on ${this.entry.worker}` : ''}`),
    ];
  }

  started(length: number): void {
    this.index = Math.min(length, MAX_ENTRIES) - 1;
  }

  /** The start was written with the job's fetch (start-on-fetch.ts), at `startedAt`. */
  startedOnFetch(length: number, startedAt: string): void {
    this.entry.started_at = startedAt;
    this.started(length);
  }

  /** The end's writes, for a caller's batch; once that batch is sent, call `endSent`. */
  endWrites(end: AttemptEnd): RedisWrite[] {
    const done: AttemptEntry = { ...this.entry, ended_at: new Date().toISOString() };
    let line: string;
    if ('error' in end) {
      // A final failure is re-thrown as BullMQ's UnrecoverableError: its cause holds the real stack.
      const root = end.error.cause instanceof Error ? end.error.cause : end.error;
      Object.assign(done, { outcome: root.message.startsWith('cancelled') ? 'cancelled' : 'failed', error: root.message, error_name: root.name, stack: root.stack });
      line = `attempt ${this.entry.attempt} ${done.outcome}: ${root.name}: ${root.message}`;
    } else {
      const o = end.outcome;
      done.outcome = o.status;
      if (o.status === 'completed') done.detail = `${o.result.decision} (confidence ${o.result.confidence})`;
      else done.detail = o.status === 'skipped' ? [o.reason, o.detail].filter(Boolean).join(': ') : o.reason;
      line = `attempt ${this.entry.attempt} ${o.status}${done.detail ? `: ${done.detail}` : ''}`;
    }
    const entry = JSON.stringify(done);
    // Without a known index (the start was not recorded), the finished entry is appended.
    const record: RedisWrite = this.index >= 0 ? ['LSETORPUSH', this.key, String(this.index), entry] : ['RPUSH', this.key, entry];
    return [record, jobLogWrite(this.job, line)];
  }

  endSent(): void {
    this.ended = true;
  }

  /** Sends whatever of the start and end was not sent with other writes. */
  async finish(redis: Redis, end: AttemptEnd): Promise<void> {
    if (this.ended) return;
    if (this.index >= 0) {
      await new OnceWrites().alsoWrite(this.endWrites(end)).send(redis);
      this.ended = true;
      return;
    }
    // Never started on record: the finished entry alone, with both log lines.
    const [record, endLine] = this.endWrites(end);
    const [, trim, expire, startLine] = this.startWrites();
    await new OnceWrites().alsoWrite([record!, trim!, expire!, startLine!, endLine!]).send(redis);
    this.ended = true;
  }
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
 * Wraps a cycle processor so each attempt is recorded whatever it does. The processor gets the
 * attempt's recorder, to send its start and end with its own writes. A processor that never settles
 * (a cycle abandoned at shutdown) leaves its attempt open, which is the truth.
 */
export type AttemptProcessor = (job: Job, token?: string, signal?: AbortSignal, attempt?: AttemptRecorder) => Promise<JobOutcome>;

export function recordingAttempts(processor: AttemptProcessor, deps: { redis: Redis; keys: ProductKeys; worker: string }): (job: Job, token?: string, signal?: AbortSignal) => Promise<JobOutcome> {
  return async (job: Job, token?: string, signal?: AbortSignal) => {
    const attempt = new AttemptRecorder(deps.keys, job, deps.worker);
    try {
      const outcome = await processor(job, token, signal, attempt);
      await attempt.finish(deps.redis, { outcome }).catch(() => undefined);
      return outcome;
    } catch (err) {
      await attempt.finish(deps.redis, { error: err instanceof Error ? err : new Error(String(err)) }).catch(() => undefined);
      throw err;
    }
  };
}

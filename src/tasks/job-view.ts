import { nyDate as calendarNyDate } from '../calendar/index.ts';
import type { JobFields } from './job-hashes.ts';
import { jobOutcomeSchema, jobSpend, type ApprovalStatus, type CycleResult, type JobOutcome, type JobStatus, type JobView, type QueueName } from '../core/index.ts';

export type { JobView } from '../core/index.ts';

/** The job status an approval's state gives a held decision. */
export function approvalJobStatus(status: ApprovalStatus): JobStatus {
  return status === 'pending' ? 'awaiting_approval' : status === 'approved' ? 'completed' : status;
}

export const CANCELLED_PREFIX = 'cancelled';

/** A scheduled run's due time is in its id: `repeat:<schedulerId>:<millis>`. */
export function dueTimeFromJobId(jobId: string | undefined): number | null {
  const m = /^repeat:.+:(\d{10,})$/.exec(jobId ?? '');
  return m ? Number(m[1]) : null;
}

/** The New York date of an instant in ms (the calendar's, memoised per hour: job lists ask it for every row). */
export function nyDate(ms: number): string {
  return calendarNyDate(new Date(ms));
}

function iso(ms: number | undefined | null): string | null {
  return ms ? new Date(ms).toISOString() : null;
}

export function parseOutcome(value: unknown): JobOutcome | null {
  const parsed = jobOutcomeSchema.safeParse(value);
  return parsed.success ? parsed.data : null;
}

export function statusOf(state: string, job: Pick<JobFields, 'returnvalue' | 'failedReason'>): { status: JobStatus; outcome: JobOutcome | null } {
  if (state === 'active') return { status: 'running', outcome: null };
  if (state === 'completed') {
    const outcome = parseOutcome(job.returnvalue);
    // A decision held for approval: its settlement (kept beside the job) refines this further.
    if (outcome?.status === 'completed' && outcome.result.awaiting_approval) return { status: 'awaiting_approval', outcome };
    return { status: outcome?.status ?? 'completed', outcome };
  }
  if (state === 'failed') {
    const cancelled = (job.failedReason ?? '').startsWith(CANCELLED_PREFIX);
    return { status: cancelled ? 'cancelled' : 'failed', outcome: null };
  }
  return { status: 'pending', outcome: null };
}

export function toJobView(job: JobFields, state: string, queue: QueueName): JobView {
  const data = (job.data ?? {}) as Record<string, unknown>;
  const { status, outcome } = statusOf(state, job);
  const due = dueTimeFromJobId(job.id);
  const requestedMs = typeof data.requested_at === 'string' ? Date.parse(data.requested_at) : (due ?? job.timestamp);
  const view: JobView = {
    job_id: String(job.id),
    status,
    queue,
    ticker: String(data.ticker ?? ''),
    agent: String(data.agent ?? ''),
    // The day the processor pins a dateless job to: its due time, else when it was asked for.
    date: typeof data.date === 'string' ? data.date : nyDate(due ?? requestedMs),
    schedule_id: typeof data.schedule_id === 'string' ? data.schedule_id : null,
    trigger: String(data.trigger ?? ''),
    dry_run: data.dry_run !== false,
    requested_at: new Date(requestedMs).toISOString(),
    created_at: new Date(job.timestamp).toISOString(),
    started_at: iso(job.processedOn),
    completed_at: status === 'pending' || status === 'running' ? null : iso(job.finishedOn),
    attempts: job.attemptsMade,
    progress: job.progress,
    worker: job.processedBy ?? null,
  };
  if (status === 'failed' || status === 'cancelled') view.error = job.failedReason;
  if (outcome?.status === 'skipped' || outcome?.status === 'cancelled') view.reason = outcome.reason;
  if (outcome?.status === 'completed') {
    const r = outcome.result;
    Object.assign(view, { decision: r.decision, confidence: r.confidence, engine: r.engine, models: r.models, cost_usd: jobSpend(r).cost_usd, ...(jobSpend(r).cost_unknown ? { cost_unknown: true } : {}), data_source: r.data_source });
  }
  if (job.processedOn && job.finishedOn && status !== 'pending' && status !== 'running') view.duration_ms = job.finishedOn - job.processedOn;
  return view;
}

export function resultOf(job: Pick<JobFields, 'returnvalue'>): CycleResult | null {
  const outcome = parseOutcome(job.returnvalue);
  return outcome?.status === 'completed' ? outcome.result : null;
}

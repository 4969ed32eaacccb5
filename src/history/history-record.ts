import { nyDate } from '../calendar/index.ts';
import type { AgentProfile, CycleResult, FinalJob, FinalOutcome, QueueName } from '../core/index.ts';

/** A finished job's final outcome, as the worker records it. */
export type HistoryOutcome = FinalOutcome;

/** The job half of a cycle's history record. Times are ISO-8601 UTC. */
export interface CycleJobRecord {
  id: string;
  queue: QueueName;
  schedule_id: string | null;
  ticker: string;
  agent: string;
  profile: AgentProfile;
  trigger: string;
  dry_run: boolean;
  date: string;
  requested_at: string | null;
  created_at: string | null;
  due_at: string;
  started_at: string | null;
  finished_at: string;
  attempts: number;
  status: HistoryOutcome['status'];
  reason?: string;
  detail?: string;
  error?: string;
}

/** What goes through the outbox into PostgreSQL: plain JSON. */
export type HistoryRecord =
  | { kind: 'cycle'; job: CycleJobRecord; result: CycleResult | null }
  | { kind: 'replay'; replay_id: string; status: string; finished_at: string | null; report: unknown };

const iso = (ms: number | undefined | null) => (ms ? new Date(ms).toISOString() : null);

/** The record of one finished job, from what the worker knows when it records the outcome. */
export function cycleRecord(
  job: FinalJob,
  outcome: HistoryOutcome,
  finishedAt: number,
): HistoryRecord {
  const { data } = job;
  const result = outcome.status === 'completed' ? outcome.result : null;
  return {
    kind: 'cycle',
    job: {
      id: job.id,
      queue: job.queue,
      schedule_id: data.schedule_id,
      ticker: data.ticker,
      agent: data.agent,
      profile: data.profile,
      trigger: data.trigger,
      dry_run: data.dry_run,
      date: result?.date ?? data.date ?? nyDate(new Date(job.dueAt)),
      requested_at: data.requested_at ?? null,
      created_at: iso(job.createdAt),
      due_at: new Date(job.dueAt).toISOString(),
      started_at: iso(job.processedOn),
      finished_at: new Date(finishedAt).toISOString(),
      attempts: job.attempts ?? 0,
      status: outcome.status,
      ...(outcome.status === 'skipped' ? { reason: outcome.reason, ...(outcome.detail ? { detail: outcome.detail } : {}) } : {}),
      ...(outcome.status === 'failed' || outcome.status === 'cancelled' ? { error: outcome.error } : {}),
    },
    result,
  };
}

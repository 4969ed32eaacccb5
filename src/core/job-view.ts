import type { QueueName } from './queues.ts';
import type { JobStatus } from './contracts.ts';
import type { ApprovalView } from './decision-approvals.ts';

/** A job as the API shows it: the contract integrators poll. */
export interface JobView {
  job_id: string;
  status: JobStatus;
  queue: QueueName;
  ticker: string;
  agent: string;
  date: string;
  schedule_id: string | null;
  trigger: string;
  dry_run: boolean;
  requested_at: string;
  created_at: string;
  started_at: string | null;
  completed_at: string | null;
  attempts: number;
  progress: unknown;
  worker: string | null;
  error?: string;
  reason?: string;
  decision?: string;
  confidence?: number;
  engine?: string;
  models?: string[];
  /** What the cycle's LLM calls cost, as far as known: with `cost_unknown`, a lower bound (some call's cost is not known). */
  cost_usd?: number;
  /** Set when some call's cost is not known (an unpriced hosted model, a server that reported no usage). */
  cost_unknown?: true;
  data_source?: string;
  duration_ms?: number | null;
  /** Decisions of `approval: required` profiles: who settled it, when, and the fill. */
  approval?: ApprovalView;
}

import type { CycleJobData, CycleResult } from './contracts.ts';
import type { QueueName } from './queues.ts';

/** What is recorded for a job once, whatever happens to it (retries and stalled recoveries included). */
export type FinalOutcome =
  | { status: 'completed'; result: CycleResult }
  | { status: 'skipped'; reason: string; detail?: string }
  | { status: 'failed' | 'cancelled'; error: string };

/** The job whose final outcome is recorded: what the worker knows of it at that moment. */
export interface FinalJob {
  id: string;
  queue: QueueName;
  data: CycleJobData;
  dueAt: number;
  processedOn?: number;
  createdAt?: number;
  attempts?: number;
}

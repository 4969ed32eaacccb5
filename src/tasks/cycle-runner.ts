import type { Job } from 'bullmq';
import type { CycleJobData, CycleResult } from '../core/index.ts';

export interface CycleRunRequest {
  job: Job;
  token?: string;
  /** The job's data, already validated by the worker. */
  data: CycleJobData;
  softTimeLimitMs: number;
  hardTimeLimitMs: number;
  /** Aborted on cancel (worker.cancelJob). */
  signal: AbortSignal;
}

/** Where cycles execute: BullMQ sandbox child processes (default) or the worker process itself. */
export interface CycleRunner {
  readonly mode: 'sandbox' | 'in-process';
  run(request: CycleRunRequest): Promise<CycleResult>;
  /** Pids of the sandbox children alive now (empty in-process). */
  childPids(): number[];
  /** Kills what is still running (used when the shutdown deadline has passed). */
  close(): Promise<void>;
}

/** Failure messages the worker recognises: these are final, a retry would only repeat them. */
export const SOFT_LIMIT = 'soft time limit exceeded';
export const HARD_LIMIT = 'hard time limit exceeded';

/**
 * An error that may cross a process boundary keeping the name the worker classifies by (BullMQ's
 * sandbox copies an error's own properties, and `name` is one here).
 */
export class CycleRunError extends Error {
  constructor(message: string, override readonly name: string) {
    super(message);
  }
}

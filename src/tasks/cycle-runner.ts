import type { CycleStage } from '../agents/index.ts';
import type { CycleJobData, CycleResult, QueueName } from '../core/index.ts';

export interface CycleRunRequest {
  data: CycleJobData;
  jobId: string;
  attempt: number;
  queue: QueueName;
  softTimeLimitMs: number;
  hardTimeLimitMs: number;
  /** Aborted on cancel or shutdown. */
  signal: AbortSignal;
  onProgress(stage: CycleStage, percent: number): Promise<void>;
}

/** Where cycles execute: sandbox child processes (default) or the worker process itself. */
export interface CycleRunner {
  readonly mode: 'sandbox' | 'in-process';
  run(request: CycleRunRequest): Promise<CycleResult>;
  /** Pids of the sandbox children alive now (empty in-process). */
  childPids(): number[];
  close(): Promise<void>;
}

/** Failure messages the worker recognises: these are final, a retry would only repeat them. */
export const SOFT_LIMIT = 'soft time limit exceeded';
export const HARD_LIMIT = 'hard time limit exceeded';

/** An error that crossed a process boundary, keeping the name the worker classifies by. */
export class CycleRunError extends Error {
  constructor(message: string, override readonly name: string) {
    super(message);
  }
}

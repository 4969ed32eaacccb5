import type { Redis } from 'ioredis';
import type { Config, Logger } from '../core/index.ts';

/** Stages a cycle reports through job progress, in order. */
export const CYCLE_STAGES = ['fetching data', 'analysts', 'debate', 'trader', 'risk', 'decision'] as const;
export type CycleStage = (typeof CYCLE_STAGES)[number];

/**
 * Everything a trading cycle may touch, passed in so the logic is testable with a fake clock,
 * a local HTTP server and a real Redis.
 */
export interface CycleContext {
  config: Config;
  /** A connection for caches and the paper ledger (keys under config.QUEUE_PREFIX). */
  redis: Redis;
  logger: Logger;
  /** Aborted on soft time limit, cancel or shutdown: stop outbound calls and throw. */
  signal: AbortSignal;
  jobId: string;
  attempt: number;
  reportProgress(stage: CycleStage, percent: number): Promise<void>;
  /** Waits for a slot of the queue's outbound-call rate limit. */
  acquireCallSlot?(kind: 'llm' | 'data'): Promise<void>;
  now?(): Date;
}

import type { CycleStage } from '../agents/index.ts';
import type { CycleJobData, CycleResult, QueueName } from '../core/index.ts';

/** Parent → sandbox child. */
export type ToChild =
  | { type: 'run'; data: CycleJobData; jobId: string; attempt: number; queue: QueueName }
  | { type: 'abort'; reason: string };

/**
 * Sandbox child → parent. A cycle's end carries the child's resident memory (bytes), for recycling by memory,
 * when it was read (at most every 100 ms; without it the parent keeps the last).
 */
export type FromChild =
  | { type: 'ready' }
  | { type: 'progress'; stage: CycleStage; percent: number }
  | { type: 'done'; result: CycleResult; rss?: number }
  | { type: 'error'; name: string; message: string; stack?: string; rss?: number };

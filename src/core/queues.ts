/**
 * Every queue of the product, declared once with its execution defaults.
 * Workers, the scheduler, the API and the dashboard all read this table.
 */
export const QUEUE_NAMES = ['trading-cycle', 'trading-cycle-priority'] as const;
export type QueueName = (typeof QUEUE_NAMES)[number];

export const DEFAULT_QUEUE: QueueName = 'trading-cycle';
/** Manual triggers go here so a human never waits behind a scheduled backlog. */
export const PRIORITY_QUEUE: QueueName = 'trading-cycle-priority';

export interface QueueDefaults {
  description: string;
  /** Total attempts including the first run. */
  attempts: number;
  backoffBaseMs: number;
  backoffCapMs: number;
  /** Outbound LLM/data calls allowed per window, shared by all workers of the queue. */
  rateLimit: { max: number; durationMs: number };
  softTimeLimitMs: number;
  hardTimeLimitMs: number;
  keepCompleted: { ageSeconds: number; count: number };
  keepFailed: { ageSeconds: number; count: number };
}

const SEVEN_DAYS = 7 * 24 * 3600;

const base: Omit<QueueDefaults, 'description'> = {
  attempts: 3,
  backoffBaseMs: 2_000,
  backoffCapMs: 60_000,
  rateLimit: { max: 60, durationMs: 60_000 },
  softTimeLimitMs: 25 * 60_000,
  hardTimeLimitMs: 30 * 60_000,
  keepCompleted: { ageSeconds: SEVEN_DAYS, count: 10_000 },
  keepFailed: { ageSeconds: SEVEN_DAYS, count: 10_000 },
};

export const QUEUES: Record<QueueName, QueueDefaults> = {
  'trading-cycle': { ...base, description: 'Scheduled trading cycles' },
  'trading-cycle-priority': { ...base, description: 'Manual triggers and API requests, served first' },
};

export function isQueueName(name: string): name is QueueName {
  return (QUEUE_NAMES as readonly string[]).includes(name);
}

/** BullMQ job name used for every trading cycle. */
export const CYCLE_JOB_NAME = 'trading-cycle';

/** Job options every trading-cycle job gets on a queue (API enqueue and scheduler templates alike). */
export function cycleJobOptions(queue: QueueName) {
  const q = QUEUES[queue];
  return {
    attempts: q.attempts,
    backoff: { type: 'exponential', delay: q.backoffBaseMs, jitter: 0.5 },
    removeOnComplete: { age: q.keepCompleted.ageSeconds, count: q.keepCompleted.count },
    removeOnFail: { age: q.keepFailed.ageSeconds, count: q.keepFailed.count },
  } as const;
}

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

/** Our backoff: exponential from the queue's base, capped, with jitter (computed by the worker). */
export const BACKOFF_TYPE = 'capped-exponential';

/** The queue table with environment overrides applied (one place, read by workers and producers). */
export function effectiveQueue(
  queue: QueueName,
  env: Partial<Record<'CYCLE_SOFT_TIME_LIMIT_MS' | 'CYCLE_HARD_TIME_LIMIT_MS' | 'CYCLE_ATTEMPTS' | 'CYCLE_BACKOFF_MS' | 'CYCLE_BACKOFF_CAP_MS' | 'CALLS_PER_MINUTE', number | undefined>> = {},
): QueueDefaults {
  const q = QUEUES[queue];
  return {
    ...q,
    attempts: env.CYCLE_ATTEMPTS ?? q.attempts,
    backoffBaseMs: env.CYCLE_BACKOFF_MS ?? q.backoffBaseMs,
    backoffCapMs: env.CYCLE_BACKOFF_CAP_MS ?? q.backoffCapMs,
    softTimeLimitMs: env.CYCLE_SOFT_TIME_LIMIT_MS ?? q.softTimeLimitMs,
    hardTimeLimitMs: env.CYCLE_HARD_TIME_LIMIT_MS ?? q.hardTimeLimitMs,
    rateLimit: env.CALLS_PER_MINUTE ? { max: env.CALLS_PER_MINUTE, durationMs: 60_000 } : q.rateLimit,
  };
}

/** Job options every trading-cycle job gets on a queue (API enqueue and scheduler templates alike). */
export function cycleJobOptions(queue: QueueName, env: Parameters<typeof effectiveQueue>[1] = {}) {
  const q = effectiveQueue(queue, env);
  return {
    attempts: q.attempts,
    backoff: { type: BACKOFF_TYPE, delay: q.backoffBaseMs },
    removeOnComplete: { age: q.keepCompleted.ageSeconds, count: q.keepCompleted.count },
    removeOnFail: { age: q.keepFailed.ageSeconds, count: q.keepFailed.count },
  } as const;
}

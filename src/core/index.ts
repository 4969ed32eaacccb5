/** The shared core: config, Redis connection, logger, queue names and job contracts. */
export * from './config.ts';
export * from './contracts.ts';
export * from './keys.ts';
export * from './logger.ts';
export * from './queues.ts';
export * from './redis-connection.ts';
export * from './errors.ts';
export * from './open-queues.ts';
export * from './service-runner.ts';
export * from './counters.ts';
export * from './redis-writes.ts';
export * from './cycle-metrics.ts';
export * from './events.ts';
export * from './cycle-options-policy.ts';
export * from './schedule-runs.ts';
export * from './decision-approvals.ts';
export type { JobView } from './job-view.ts';
export type { ScoredDecision } from './scored-decision.ts';

import type { Redis } from 'ioredis';
import type { Config, Logger, ProductKeys } from '../core/index.ts';
import type { HistoryStore } from '../history/index.ts';
import type { QueueSet } from '../tasks/index.ts';
import type { RequestLimits } from './request-limits.ts';

/** What every API route may use; passed in so tests run the app against a real Redis and their own prefix. */
export interface ApiContext {
  config: Config;
  logger: Logger;
  /** Fail-fast producer connection shared by the queues. */
  redis: Redis;
  keys: ProductKeys;
  queues: QueueSet;
  now: () => Date;
  /** Per-client request limits; createApp makes one when none is given. */
  limits?: RequestLimits;
  /** The durable history (PostgreSQL) when DATABASE_URL is set: jobs Redis no longer holds are read from it. */
  history?: HistoryStore | null;
}

import type { Redis } from 'ioredis';
import { pruneAgentHistory } from '../agents/index.ts';
import type { Config, ProductKeys } from '../core/index.ts';
import { pruneJobIndex } from '../tasks/index.ts';

/** How often the leader bounds the history (scorecard, trades, job index). */
export const RETENTION_EVERY_MS = 3_600_000;

/** One retention pass with the configured limits; returns what it removed. */
export async function runRetentionPass(redis: Redis, keys: ProductKeys, config: Pick<Config, 'QUEUE_PREFIX' | 'SCORECARD_RETAIN_DAYS' | 'PORTFOLIO_TRADES_KEEP' | 'JOB_INDEX_KEEP'>, now = new Date()) {
  const history = await pruneAgentHistory(redis, config.QUEUE_PREFIX, { scorecardRetainDays: config.SCORECARD_RETAIN_DAYS, tradesKeep: config.PORTFOLIO_TRADES_KEEP, now });
  const indexEntries = await pruneJobIndex(redis, keys, config.JOB_INDEX_KEEP, now.getTime());
  return { ...history, indexEntries };
}

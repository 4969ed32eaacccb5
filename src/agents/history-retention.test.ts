import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { productKeys } from '../core/index.ts';
import { pruneJobIndex } from '../tasks/index.ts';
import { deletePrefix, TEST_REDIS_URL, uniquePrefix } from '../../test/support/redis-test-env.ts';
import { pruneAgentHistory } from './index.ts';
import { recordDecision } from './scorecard/decision-log.ts';
import { scorecardKeys } from './scorecard/decision-log.ts';

const redis = new Redis(TEST_REDIS_URL);
const prefix = uniquePrefix('retention');
afterAll(async () => {
  await deletePrefix(prefix);
  redis.disconnect();
});

const decision = (jobId: string, date: string, ticker = 'SPY') => ({ job_id: jobId, agent: 'desk', ticker, date, decision: 'BUY' as const, price: 100, models: [], cost_usd: 0, cycle_ms: 1, at: `${date}T20:00:00.000Z`, data_source: 'test' });

describe('history retention', () => {
  it('drops scorecard decisions past the retention (and their pending entries), trims trades to the newest', async () => {
    await recordDecision(redis, prefix, decision('old', '2025-01-02'));
    await recordDecision(redis, prefix, decision('recent', '2026-11-20', 'QQQ'));
    const k = productKeys(prefix);
    await redis.sadd(k.custom('portfolio', 'agents'), 'desk');
    await redis.rpush(k.custom('portfolio', 'desk', 'trades'), ...Array.from({ length: 30 }, (_, i) => JSON.stringify({ n: i })));
    const removed = await pruneAgentHistory(redis, prefix, { scorecardRetainDays: 365, tradesKeep: 10, now: new Date('2026-12-01T00:00:00Z') });
    expect(removed).toEqual({ decisions: 1, trades: 20 });
    const sc = scorecardKeys(prefix);
    expect(await redis.hkeys(sc.entries('desk'))).toEqual(['recent']);
    expect(await redis.smembers(sc.pending('SPY'))).toEqual([]);
    expect(await redis.smembers(sc.pending('QQQ'))).toEqual(['desk|recent']);
    const trades = (await redis.lrange(k.custom('portfolio', 'desk', 'trades'), 0, -1)).map((t) => (JSON.parse(t) as { n: number }).n);
    expect(trades).toEqual([20, 21, 22, 23, 24, 25, 26, 27, 28, 29]);
    // A second pass finds nothing more.
    expect(await pruneAgentHistory(redis, prefix, { scorecardRetainDays: 365, tradesKeep: 10, now: new Date('2026-12-01T00:00:00Z') })).toEqual({ decisions: 0, trades: 0 });
  });

  it('bounds every job index list by age and by count', async () => {
    const keys = productKeys(prefix);
    const now = Date.now();
    const list = keys.custom('jobs', 'ticker', 'OLD');
    await redis.zadd(list, String(now - 30 * 86_400_000), 'trading-cycle|stale', ...Array.from({ length: 20 }, (_, i) => [String(now - i * 1000), `trading-cycle|j${i}`]).flat());
    const removed = await pruneJobIndex(redis, keys, 5, now);
    expect(removed).toBe(16);
    expect(await redis.zrevrange(list, 0, -1)).toEqual(['trading-cycle|j0', 'trading-cycle|j1', 'trading-cycle|j2', 'trading-cycle|j3', 'trading-cycle|j4']);
  });
});

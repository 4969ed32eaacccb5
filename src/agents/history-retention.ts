import type { Redis } from 'ioredis';
import { productKeys } from '../core/index.ts';
import type { ScoredDecision } from './scorecard/decision-log.ts';
import { scorecardKeys } from './scorecard/decision-log.ts';

export interface HistoryRetention {
  /** Scored decisions older than this (by analysis date) leave the scorecard. */
  scorecardRetainDays: number;
  /** Paper trades kept per agent (newest); cash, positions and P&L are not affected. */
  tradesKeep: number;
  now?: Date;
}

/**
 * Bounds the agents' history, which would otherwise grow with every cycle: scorecard hashes (and the
 * per-ticker sets of decisions waiting for a return) lose decisions past the retention, trade lists
 * keep their newest entries. Idempotent; the scheduler's leader runs it periodically.
 */
export async function pruneAgentHistory(redis: Redis, prefix: string, opts: HistoryRetention): Promise<{ decisions: number; trades: number }> {
  const sc = scorecardKeys(prefix);
  const cutoff = new Date((opts.now ?? new Date()).getTime() - opts.scorecardRetainDays * 86_400_000).toISOString().slice(0, 10);
  let decisions = 0;
  for (const key of await scanKeys(redis, `${productKeys(prefix).custom('scorecard')}:*`, 'hash')) {
    const agent = key.slice(productKeys(prefix).custom('scorecard').length + 1);
    let cursor = '0';
    do {
      const [next, flat] = await redis.hscan(key, cursor, 'COUNT', 500);
      cursor = next;
      const drop: Array<{ jobId: string; ticker: string }> = [];
      for (let i = 0; i < flat.length; i += 2) {
        try {
          const e = JSON.parse(flat[i + 1]!) as ScoredDecision;
          if ((e.date ?? e.at?.slice(0, 10) ?? '') < cutoff) drop.push({ jobId: flat[i]!, ticker: e.ticker });
        } catch {
          drop.push({ jobId: flat[i]!, ticker: '' });
        }
      }
      if (drop.length) {
        const m = redis.multi().hdel(key, ...drop.map((d) => d.jobId));
        for (const d of drop) if (d.ticker) m.srem(sc.pending(d.ticker), `${agent}|${d.jobId}`);
        await m.exec();
        decisions += drop.length;
      }
    } while (cursor !== '0');
  }
  let trades = 0;
  const k = productKeys(prefix);
  for (const agent of await redis.smembers(k.custom('portfolio', 'agents'))) {
    const key = k.custom('portfolio', agent, 'trades');
    const excess = (await redis.llen(key)) - opts.tradesKeep;
    if (excess > 0) {
      await redis.ltrim(key, -opts.tradesKeep, -1);
      trades += excess;
    }
  }
  return { decisions, trades };
}

async function scanKeys(redis: Redis, match: string, type: string): Promise<string[]> {
  const out: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', match, 'COUNT', 1000, 'TYPE', type);
    cursor = next;
    out.push(...keys);
  } while (cursor !== '0');
  return out;
}

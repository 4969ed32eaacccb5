import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import type { ProductKeys } from '../../core/index.ts';
import { DataSourceUnavailableError, UnknownTickerError, type MarketDataProvider } from './market-data-provider.ts';

export interface CacheTtl {
  dailyS: number;
  intradayS: number;
  quoteS: number;
  /** Fundamentals and news change slowly. */
  slowS: number;
}
export const DEFAULT_CACHE_TTL: CacheTtl = { dailyS: 900, intradayS: 60, quoteS: 15, slowS: 900 };

/** A loader holds its lock at most this long (longer than any source time-out). */
const LOCK_MS = 15_000;
/** A failure is shared with the cycles waiting on the same fetch for this long, so they do not each time out. */
const FAILURE_MS = 5_000;
const POLL_MS = 50;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

function revive(raw: string): Error {
  const { name, message } = JSON.parse(raw) as { name: string; message: string };
  return name === 'UnknownTickerError' ? new UnknownTickerError(message) : new DataSourceUnavailableError(message);
}

/**
 * Caches a provider's answers in Redis for a short time, keyed by (source, kind, ticker, date), so ten
 * agents analysing SPY in the same minute fetch once — also when they start at the same moment in
 * different worker processes: the first takes a short Redis lock and fetches, the others wait for its
 * answer (or its failure) instead of asking the source again.
 */
export function withRedisCache(provider: MarketDataProvider, redis: Redis, keys: ProductKeys, ttl: CacheTtl = DEFAULT_CACHE_TTL): MarketDataProvider {
  const cached = async <T>(parts: string[], seconds: number, signal: AbortSignal | undefined, load: () => Promise<T>): Promise<T> => {
    const key = keys.custom('cache', provider.name, ...parts);
    const lock = `${key}:loading`;
    const failure = `${key}:failed`;
    const hit = await redis.get(key);
    if (hit !== null) return JSON.parse(hit) as T;
    const token = randomBytes(8).toString('hex');
    const deadline = Date.now() + LOCK_MS;
    for (;;) {
      // A Redis refusing writes (OOM, failover) costs the cache, never the cycle: fetch without it.
      const locked = await redis.set(lock, token, 'PX', LOCK_MS, 'NX').catch(() => 'unavailable' as const);
      if (locked === 'unavailable') return load();
      if (locked === 'OK') {
        try {
          const value = await load();
          await redis.set(key, JSON.stringify(value), 'EX', seconds).catch(() => undefined);
          return value;
        } catch (err) {
          if ((err instanceof UnknownTickerError || err instanceof DataSourceUnavailableError) && !signal?.aborted) {
            await redis.set(failure, JSON.stringify({ name: err.name, message: err.message }), 'PX', FAILURE_MS).catch(() => undefined);
          }
          throw err;
        } finally {
          await redis.eval(RELEASE, 1, lock, token).catch(() => undefined);
        }
      }
      await sleep(POLL_MS, undefined, { signal });
      const [value, failed] = await redis.mget(key, failure);
      if (value !== null && value !== undefined) return JSON.parse(value) as T;
      if (failed) throw revive(failed);
      // The loader vanished without an answer (its process died): fetch ourselves.
      if (Date.now() > deadline) return load();
    }
  };
  return {
    get name() {
      return provider.name;
    },
    getDailyBars: (t, o) => cached(['daily', t, o.to, String(o.lookbackDays)], ttl.dailyS, o.signal, () => provider.getDailyBars(t, o)),
    getIntradayBars: (t, o) => cached([o.interval ?? '5m', t, o.date], ttl.intradayS, o.signal, () => provider.getIntradayBars(t, o)),
    getQuote: (t, o) => cached(['quote', t], ttl.quoteS, o.signal, () => provider.getQuote(t, o)),
    getFundamentals: (t, o) => cached(['fundamentals', t], ttl.slowS, o.signal, () => provider.getFundamentals(t, o)),
    getNews: (t, o) => cached(['news', t], ttl.slowS, o.signal, () => provider.getNews(t, o)),
  };
}

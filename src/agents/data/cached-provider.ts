import type { Redis } from 'ioredis';
import type { ProductKeys } from '../../core/index.ts';
import type { MarketDataProvider } from './market-data-provider.ts';

/**
 * Caches a provider's answers in Redis for a short time, so ten agents analysing SPY in the same
 * minute fetch once. Daily bars keep longer than intraday bars and quotes.
 */
export function withRedisCache(provider: MarketDataProvider, redis: Redis, keys: ProductKeys, ttl = { dailyS: 900, intradayS: 60, quoteS: 15, slowS: 900 }): MarketDataProvider {
  const cached = async <T>(parts: string[], seconds: number, load: () => Promise<T>): Promise<T> => {
    const key = keys.custom('cache', provider.name, ...parts);
    const hit = await redis.get(key);
    if (hit !== null) return JSON.parse(hit) as T;
    const value = await load();
    await redis.set(key, JSON.stringify(value), 'EX', seconds);
    return value;
  };
  return {
    name: provider.name,
    getDailyBars: (t, o) => cached(['daily', t, o.to, String(o.lookbackDays)], ttl.dailyS, () => provider.getDailyBars(t, o)),
    getIntradayBars: (t, o) => cached(['5m', t, o.date], ttl.intradayS, () => provider.getIntradayBars(t, o)),
    getQuote: (t, o) => cached(['quote', t], ttl.quoteS, () => provider.getQuote(t, o)),
    getFundamentals: (t, o) => cached(['fundamentals', t], ttl.slowS, () => provider.getFundamentals(t, o)),
    getNews: (t, o) => cached(['news', t], ttl.slowS, () => provider.getNews(t, o)),
  };
}

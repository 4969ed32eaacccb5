import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { productKeys } from '../../core/index.ts';
import { startFakeYahoo } from '../../../test/support/fake-yahoo-server.ts';
import { deletePrefix, silentLogger, testConfig, TEST_REDIS_URL, uniquePrefix } from '../../../test/support/redis-test-env.ts';
import { withRedisCache } from './cached-provider.ts';
import { createMarketDataProvider, resetMarketDataFallback } from './provider-selection.ts';
import { createYahooProvider } from './yahoo-provider.ts';

const closes = Array.from({ length: 30 }, (_, i) => 100 + i);
const yahoo = await startFakeYahoo({ closes: { SPY: closes }, htmlFor: ['HTML'] });
const redis = new Redis(TEST_REDIS_URL);
const prefix = uniquePrefix('yahoo');
afterAll(async () => {
  await yahoo.close();
  redis.disconnect();
  await deletePrefix(prefix);
});

describe('yahoo provider (real yahoo-finance2 client, local server in Yahoo\'s wire format)', () => {
  const provider = createYahooProvider({ fetch: yahoo.fetch });

  it('reads daily bars, the latest price and news', async () => {
    const bars = await provider.getDailyBars('SPY', { to: '2026-11-20', lookbackDays: 20 });
    expect(bars).toHaveLength(20);
    expect(bars.at(-1)!.c).toBe(129);
    expect(bars[0]).toMatchObject({ o: expect.any(Number), h: expect.any(Number), l: expect.any(Number), v: 1_000_000 });
    expect((await provider.getQuote('SPY', {}))?.price).toBe(129);
    const news = await provider.getNews('SPY', {});
    expect(news?.[0]?.title).toBe('SPY rallies on earnings');
  });

  it('says an unknown symbol is unknown, and never trusts an HTML 200', async () => {
    await expect(provider.getDailyBars('NOPE', { to: '2026-11-20', lookbackDays: 20 })).rejects.toMatchObject({ name: 'UnknownTickerError' });
    await expect(provider.getDailyBars('HTML', { to: '2026-11-20', lookbackDays: 20 })).rejects.toMatchObject({ name: 'DataSourceUnavailableError' });
  });

  it('reports fundamentals unavailable rather than inventing them', async () => {
    expect(await provider.getFundamentals('SPY', {})).toBeNull();
  });

  it('caches bars in Redis so a second agent on the same ticker makes no request', async () => {
    const cached = withRedisCache(provider, redis, productKeys(prefix));
    const before = yahoo.hits.length;
    const a = await cached.getDailyBars('SPY', { to: '2026-11-19', lookbackDays: 10 });
    const mid = yahoo.hits.length;
    const b = await cached.getDailyBars('SPY', { to: '2026-11-19', lookbackDays: 10 });
    expect(mid).toBe(before + 1);
    expect(yahoo.hits.length).toBe(mid);
    expect(b).toEqual(a);
  });

  it('MARKET_DATA=auto falls back to simulated data when Yahoo is unreachable', async () => {
    resetMarketDataFallback();
    const dead: typeof fetch = () => Promise.reject(new TypeError('fetch failed: ECONNREFUSED'));
    const auto = createMarketDataProvider(testConfig('auto', { MARKET_DATA: 'auto' }), silentLogger, { fetch: dead });
    const bars = await auto.getDailyBars('SPY', { to: '2026-11-20', lookbackDays: 50 });
    expect(bars).toHaveLength(50);
    expect(auto.name).toBe('simulated');
    resetMarketDataFallback();
  });
});

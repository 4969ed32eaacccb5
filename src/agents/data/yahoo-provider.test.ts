import YahooFinance from 'yahoo-finance2';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { productKeys } from '../../core/index.ts';
import { startFakeYahoo } from '../../../test/support/fake-yahoo-server.ts';
import { deletePrefix, silentLogger, testConfig, TEST_REDIS_URL, uniquePrefix } from '../../../test/support/redis-test-env.ts';
import { withRedisCache } from './cached-provider.ts';
import { createMarketDataProvider, resetMarketDataFallback } from './provider-selection.ts';
import { createYahooProvider } from './yahoo-provider.ts';

const closes = Array.from({ length: 30 }, (_, i) => 100 + i);
const yahoo = await startFakeYahoo({ closes: { SPY: closes, AAPL: closes.map((c) => c * 2) }, htmlFor: ['HTML'], malformedFor: ['JUNK'], fundamentals: true });
const redis = new Redis(TEST_REDIS_URL);
const prefixes: string[] = [];
const prefix = uniquePrefix('yahoo');
prefixes.push(prefix);
afterAll(async () => {
  await yahoo.close();
  redis.disconnect();
  await Promise.all(prefixes.map((p) => deletePrefix(p)));
});
const hitsOf = (path: string) => yahoo.hits.filter((h) => h.startsWith(path)).length;

describe('yahoo provider (real yahoo-finance2 client, local server in Yahoo\'s wire format)', () => {
  const provider = createYahooProvider({ fetch: yahoo.fetch });

  it('reads daily bars, the quote (after the cookie/crumb handshake) and news, looking like a browser', async () => {
    const bars = await provider.getDailyBars('SPY', { to: '2026-11-20', lookbackDays: 20 });
    expect(bars).toHaveLength(20);
    expect(bars.at(-1)!.c).toBe(129);
    expect(bars[0]).toMatchObject({ o: expect.any(Number), h: expect.any(Number), l: expect.any(Number), v: 1_000_000 });
    expect(bars.map((b) => b.t)).toEqual([...bars.map((b) => b.t)].sort());
    const chartRequest = yahoo.requests.find((r) => r.path === '/v8/finance/chart/SPY')!;
    expect(chartRequest.headers['user-agent']).toMatch(/^Mozilla\/5\.0 .*Chrome/);
    expect(chartRequest.query.get('interval')).toBe('1d');
    const quote = await provider.getQuote('AAPL', {});
    expect(quote?.price).toBe(258);
    expect(hitsOf('/v1/test/getcrumb')).toBeGreaterThanOrEqual(1);
    expect(hitsOf('/v7/finance/quote')).toBe(1);
    const news = await provider.getNews('SPY', {});
    expect(news?.[0]).toMatchObject({ title: 'SPY rallies on earnings', publisher: 'Wire', url: 'https://example.com/a' });
  });

  it('is point-in-time: a backdated cycle gets no news published after its close and none of today\'s ratios', async () => {
    // The fake's search items are published now; its ratios are today's.
    expect(await provider.getNews('SPY', { asOf: '2026-01-05' })).toBeNull();
    expect(await provider.getFundamentals('SPY', { asOf: '2026-01-05' })).toBeNull();
  });

  it('reads fundamentals from quoteSummary, and says none when Yahoo has none', async () => {
    expect(await provider.getFundamentals('SPY', {})).toMatchObject({ market_cap: 3_400_000_000_000, trailing_pe: 31.2, profit_margins: 0.24, recommendation: 'buy', peg_ratio: 2.1 });
    const bare = await startFakeYahoo({ closes: { SPY: closes } });
    try {
      expect(await createYahooProvider({ fetch: bare.fetch }).getFundamentals('SPY', {})).toBeNull();
    } finally {
      await bare.close();
    }
  });

  it('says an unknown symbol is unknown, and never trusts a 200 of the wrong shape', async () => {
    await expect(provider.getDailyBars('NOPE', { to: '2026-11-20', lookbackDays: 20 })).rejects.toMatchObject({ name: 'UnknownTickerError' });
    await expect(provider.getDailyBars('HTML', { to: '2026-11-20', lookbackDays: 20 })).rejects.toMatchObject({ name: 'DataSourceUnavailableError' });
    await expect(provider.getDailyBars('JUNK', { to: '2026-11-20', lookbackDays: 20 })).rejects.toMatchObject({ name: 'DataSourceUnavailableError' });
  });

  it('the local server\'s answers pass yahoo-finance2\'s own result validation', async () => {
    const strict = new YahooFinance({ fetch: yahoo.fetch, logger: { info() {}, warn() {}, error() {}, debug() {}, dir() {} } } as ConstructorParameters<typeof YahooFinance>[0]);
    const chart = await strict.chart('SPY', { period1: new Date('2026-10-01'), period2: new Date('2026-11-20'), interval: '1d' });
    expect(chart.quotes).toHaveLength(30);
    expect((await strict.quote('SPY')).regularMarketPrice).toBe(129);
    expect((await strict.quoteSummary('SPY', { modules: ['summaryDetail', 'financialData', 'defaultKeyStatistics'] })).financialData?.recommendationKey).toBe('buy');
    expect((await strict.search('SPY', { newsCount: 1, quotesCount: 0 })).news).toHaveLength(1);
  });
});

describe('market data cache and source selection (real Redis)', () => {
  it('ten cycles asking for the same bars at once fetch once; the next one hits the cache and spends no call slot', async () => {
    const before = hitsOf('/v8/finance/chart/SPY');
    let slots = 0;
    const cycles = Array.from({ length: 10 }, () =>
      createMarketDataProvider(testConfig('unused', { QUEUE_PREFIX: prefix, MARKET_DATA: 'yahoo' }), silentLogger, { redis, fetch: yahoo.fetch, acquireCallSlot: async () => void slots++ }),
    );
    const answers = await Promise.all(cycles.map((c) => c.getDailyBars('SPY', { to: '2026-11-18', lookbackDays: 10 })));
    expect(hitsOf('/v8/finance/chart/SPY')).toBe(before + 1);
    expect(slots).toBe(1);
    for (const a of answers) expect(a).toEqual(answers[0]);
    const again = await cycles[0]!.getDailyBars('SPY', { to: '2026-11-18', lookbackDays: 10 });
    expect(again).toEqual(answers[0]);
    expect(hitsOf('/v8/finance/chart/SPY')).toBe(before + 1);
    expect(slots).toBe(1);
    const keys = await redis.keys(`${prefix}:tl:cache:yahoo:daily:SPY:2026-11-18:*`);
    expect(keys).toHaveLength(1);
    expect(await redis.ttl(keys[0]!)).toBeGreaterThan(60);
  });

  it('cycles waiting on a fetch that fails share the failure instead of each trying again', async () => {
    let calls = 0;
    const dead: typeof fetch = async () => {
      calls++;
      await new Promise((r) => setTimeout(r, 100));
      throw new TypeError('fetch failed: ECONNREFUSED');
    };
    const keys = productKeys(prefix);
    const cycles = Array.from({ length: 5 }, () => withRedisCache(createYahooProvider({ fetch: dead }), redis, keys));
    const results = await Promise.allSettled(cycles.map((c) => c.getDailyBars('QQQ', { to: '2026-11-18', lookbackDays: 10 })));
    expect(results.every((r) => r.status === 'rejected' && (r.reason as Error).name === 'DataSourceUnavailableError')).toBe(true);
    expect(calls).toBe(1);
  });

  it('MARKET_DATA=auto falls back to simulated data when Yahoo is unreachable, and every worker remembers the outage', async () => {
    resetMarketDataFallback();
    const p = uniquePrefix('auto');
    prefixes.push(p);
    const config = testConfig('auto', { QUEUE_PREFIX: p, MARKET_DATA: 'auto' });
    let calls = 0;
    const dead: typeof fetch = async () => {
      calls++;
      throw new TypeError('fetch failed: ECONNREFUSED');
    };
    const warnings: string[] = [];
    const logger = Object.assign(Object.create(silentLogger), { warn: (_o: unknown, msg: string) => void warnings.push(msg) });
    const auto = createMarketDataProvider(config, logger, { redis, fetch: dead });
    const bars = await auto.getDailyBars('SPY', { to: '2026-11-20', lookbackDays: 50 });
    expect(bars).toHaveLength(50);
    expect(auto.name).toBe('simulated');
    expect(warnings[0]).toMatch(/SIMULATED/);
    expect(await redis.pttl(productKeys(p).custom('cache', 'yahoo', 'outage'))).toBeGreaterThan(0);
    // Another process (its own memory forgotten) reads the outage from Redis and does not try Yahoo.
    resetMarketDataFallback();
    const tried = calls;
    const next = createMarketDataProvider(config, silentLogger, { redis, fetch: dead });
    await next.getDailyBars('SPY', { to: '2026-11-20', lookbackDays: 5 });
    expect(calls).toBe(tried);
    expect(next.name).toBe('simulated');
    resetMarketDataFallback();
  });

  it('MARKET_DATA=auto sticks to Yahoo once it answered: a later failure is an error, never a simulated price', async () => {
    resetMarketDataFallback();
    const p = uniquePrefix('auto-stick');
    prefixes.push(p);
    let alive = true;
    const flaky: typeof fetch = (input, init) => (alive ? yahoo.fetch(input, init) : Promise.reject(new TypeError('fetch failed')));
    const auto = createMarketDataProvider(testConfig('auto', { QUEUE_PREFIX: p, MARKET_DATA: 'auto' }), silentLogger, { fetch: flaky });
    expect((await auto.getDailyBars('SPY', { to: '2026-11-20', lookbackDays: 5 })).at(-1)!.c).toBe(129);
    alive = false;
    await expect(auto.getQuote('SPY', {})).rejects.toMatchObject({ name: 'DataSourceUnavailableError' });
    expect(auto.name).toBe('yahoo');
  });

  it('an aborted cycle stops at once and does not fall back', async () => {
    resetMarketDataFallback();
    const auto = createMarketDataProvider(testConfig('auto', { MARKET_DATA: 'auto' }), silentLogger, { fetch: yahoo.fetch });
    const controller = new AbortController();
    controller.abort(new Error('soft time limit'));
    await expect(auto.getDailyBars('SPY', { to: '2026-11-20', lookbackDays: 5, signal: controller.signal })).rejects.toThrow();
    expect(auto.name).toBe('yahoo');
  });
});

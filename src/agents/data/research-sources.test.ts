import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger, testConfig, deletePrefix } from '../../../test/support/redis-test-env.ts';
import { startFakeStockTwits } from '../../../test/support/fake-stocktwits-server.ts';
import { startFakeYahoo } from '../../../test/support/fake-yahoo-server.ts';
import { createYahooFundamentalsSource, FILING_LAG_DAYS } from './fundamentals-source.ts';
import { createYahooNewsSource, parseRss } from './news-source.ts';
import { cutoffOf } from './point-in-time.ts';
import { loadResearch, MARKET_NEWS_SYMBOL, researchSourcesFor } from './research-sources.ts';
import { createStockTwitsSource } from './stocktwits-source.ts';

const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const config = testConfig('research');
const closers: Array<() => Promise<void>> = [];
afterAll(async () => {
  await Promise.all(closers.map((c) => c()));
  redis.disconnect();
  await deletePrefix(config.QUEUE_PREFIX);
});

// "Now" is the evening of 2026-11-20 (a Friday); the cycle asks about Wednesday 2026-11-18.
const now = () => new Date('2026-11-20T23:00:00Z');
const news = {
  NVDA: [
    { title: 'Later: NVDA guides higher', summary: 'After the Wednesday close of the cycle.', at: '2026-11-19T14:00:00Z' },
    { title: 'NVDA data-centre demand <strong>', summary: 'Orders & backlog grow.', at: '2026-11-18T15:30:00Z', publisher: 'Wire' },
    { title: 'Just after the close', summary: 'Published 16:05 New York.', at: '2026-11-18T21:05:00Z' },
    { title: 'NVDA falls with chips', at: '2026-11-17T18:00:00Z' },
  ],
  [MARKET_NEWS_SYMBOL]: [{ title: 'Stocks drift before Fed minutes', summary: 'Indexes flat.', at: '2026-11-18T13:00:00Z' }],
};
const statements: Record<string, Array<{ end: string; values: Record<string, number> }>> = {
  NVDA: [
    { end: '2026-10-31', values: { totalRevenue: 60e9, netIncome: 30e9, totalAssets: 200e9, operatingCashFlow: 28e9 } },
    { end: '2026-07-31', values: { totalRevenue: 55e9, netIncome: 27e9, totalAssets: 190e9, operatingCashFlow: 25e9, freeCashFlow: 22e9 } },
    { end: '2026-04-30', values: { totalRevenue: 50e9, netIncome: 24e9, totalAssets: 180e9 } },
  ],
};
const twits = Array.from({ length: 70 }, (_, i) => ({
  id: 1000 + i,
  body: `post ${i}`,
  // One post an hour, the newest on Friday evening: pages reach back into Wednesday.
  created_at: new Date(Date.parse('2026-11-20T22:00:00Z') - (69 - i) * 3600_000).toISOString(),
  sentiment: i % 3 === 0 ? ('Bearish' as const) : ('Bullish' as const),
}));

async function fakes() {
  const yahoo = await startFakeYahoo({ closes: { NVDA: [100, 101] }, news, statements, profiles: { NVDA: { name: 'NVIDIA Corporation', sector: 'Technology', industry: 'Semiconductors' } }, fundamentals: true });
  const tw = await startFakeStockTwits({ streams: { NVDA: twits } });
  closers.push(yahoo.close, tw.close);
  const fetchBoth: typeof fetch = (input, init) => (String(input instanceof Request ? input.url : input).includes('stocktwits') ? tw.fetch(input, init) : yahoo.fetch(input, init));
  return { yahoo, tw, fetch: fetchBoth };
}

describe('research sources are point-in-time', () => {
  it('cuts off at the close in New York (16:00, early closes at 13:00), never after now', () => {
    expect(cutoffOf('2026-11-18', now()).toISOString()).toBe('2026-11-18T21:00:00.000Z');
    expect(cutoffOf('2026-11-27', new Date('2026-11-28T12:00:00Z')).toISOString()).toBe('2026-11-27T18:00:00.000Z');
    expect(cutoffOf('2026-11-20', new Date('2026-11-20T15:00:00Z')).toISOString()).toBe('2026-11-20T15:00:00.000Z');
  });

  it('news: dated items with summaries published by the close only, newest first', async () => {
    const { fetch } = await fakes();
    const got = await createYahooNewsSource({ fetch, now }).getNews('NVDA', { date: '2026-11-18' });
    expect(got.available).toBe(true);
    if (!got.available) return;
    expect(got.data.map((n) => n.title)).toEqual(['NVDA data-centre demand <strong>', 'NVDA falls with chips']);
    expect(got.data[0]).toMatchObject({ summary: 'Orders & backlog grow.', publisher: 'Wire', published_at: '2026-11-18T15:30:00.000Z' });
    expect(got.note).toBe('2 later item(s) left out');
  });

  it('news: a feed that does not reach back to the date is unavailable for it, not "no news"', async () => {
    const { fetch } = await fakes();
    const got = await createYahooNewsSource({ fetch, now }).getNews('NVDA', { date: '2026-11-16' });
    expect(got).toMatchObject({ available: false, as_of: '2026-11-16' });
    if (!got.available) expect(got.reason).toMatch(/only reaches back to 2026-11-17T18:00:00.000Z, after 2026-11-16's close/);
  });

  it('news: an HTML page with status 200 is not a feed', () => {
    expect(() => parseRss('<html><body>consent</body></html>')).toThrow('not an RSS document');
  });

  it('fundamentals: three statements by quarter, only quarters published by the date, no ratios for a past date', async () => {
    const { fetch } = await fakes();
    const src = createYahooFundamentalsSource({ fetch, now });
    expect(await src.getProfile('NVDA', {})).toEqual({ name: 'NVIDIA Corporation', sector: 'Technology', industry: 'Semiconductors' });
    const past = await src.getFundamentals('NVDA', { date: '2026-11-18' });
    expect(past.available).toBe(true);
    if (!past.available) return;
    // The October quarter is out only FILING_LAG_DAYS after its end: not by 2026-11-18.
    expect(FILING_LAG_DAYS).toBe(60);
    expect(past.data.quarters.map((q) => q.period_end)).toEqual(['2026-07-31', '2026-04-30']);
    expect(past.data.quarters[0]).toMatchObject({ income: { totalRevenue: 55e9, netIncome: 27e9 }, balance: { totalAssets: 190e9 }, cash_flow: { operatingCashFlow: 25e9, freeCashFlow: 22e9 } });
    expect(past.data.ratios).toBeNull();
    expect(past.note).toMatch(/ratios are today's only/);
    const today = await src.getFundamentals('NVDA', { date: '2026-11-20' });
    expect(today.available && today.data.ratios?.trailing_pe).toBe(31.2);
    const early = await src.getFundamentals('NVDA', { date: '2026-05-01' });
    expect(early).toMatchObject({ available: false });
  });

  it('stocktwits: pages back to the date and keeps posts from before its close', async () => {
    const { fetch, tw } = await fakes();
    const got = await createStockTwitsSource({ fetch, now }).getPosts('NVDA', { date: '2026-11-19' });
    expect(got.available).toBe(true);
    if (!got.available) return;
    expect(got.data.every((p) => Date.parse(p.at) <= Date.parse('2026-11-19T21:00:00Z'))).toBe(true);
    expect(got.data[0]!.at).toBe('2026-11-19T21:00:00.000Z');
    expect(got.data.some((p) => p.sentiment === 'Bearish')).toBe(true);
    expect(tw.requests.some((r) => r.includes('max='))).toBe(true);
  });

  it('stocktwits: rate limits, HTML pages and unknown symbols are unavailable with the reason', async () => {
    const limited = await startFakeStockTwits({ rateLimited: true });
    const html = await startFakeStockTwits({ html: true });
    closers.push(limited.close, html.close);
    expect(await createStockTwitsSource({ fetch: limited.fetch, now }).getPosts('NVDA', { date: '2026-11-20' })).toMatchObject({ available: false, reason: 'rate-limited by StockTwits (429)' });
    expect(await createStockTwitsSource({ fetch: html.fetch, now }).getPosts('NVDA', { date: '2026-11-20' })).toMatchObject({ available: false, reason: 'StockTwits answered a page that is not JSON' });
    expect(await createStockTwitsSource({ fetch: html.fetch, now }).getPosts('NVDA', { date: '2026-11-20' })).toMatchObject({ available: false });
  });

  it('loadResearch caches by date: a backdated cycle never reads what a cycle for today cached', async () => {
    const { fetch, yahoo } = await fakes();
    const sources = researchSourcesFor('yahoo', { SOCIAL_SOURCE: 'stocktwits' }, { fetch, now });
    const req = { ticker: 'NVDA', dataSource: 'yahoo', signal: new AbortController().signal, logger: silentLogger, redis, prefix: config.QUEUE_PREFIX, now };
    const today = await loadResearch(sources, { ...req, date: '2026-11-20' });
    const past = await loadResearch(sources, { ...req, date: '2026-11-18' });
    expect(today.news.available && today.news.data[0]!.title).toBe('Later: NVDA guides higher');
    expect(past.news.available && past.news.data[0]!.title).toBe('NVDA data-centre demand <strong>');
    expect(past.company?.name).toBe('NVIDIA Corporation');
    const rssHits = yahoo.hits.filter((h) => h === '/rss/2.0/headline').length;
    await loadResearch(sources, { ...req, date: '2026-11-18' });
    expect(yahoo.hits.filter((h) => h === '/rss/2.0/headline').length).toBe(rssHits);
    expect(await redis.exists(`${config.QUEUE_PREFIX}:tl:cache:research:news:yahoo-rss:NVDA:2026-11-18`)).toBe(1);
  });

  it('simulated market data gets no real research, and says so', async () => {
    const r = await loadResearch(researchSourcesFor('simulated', { SOCIAL_SOURCE: 'stocktwits' }), { ticker: 'NVDA', date: '2026-11-18', dataSource: 'simulated', signal: new AbortController().signal, logger: silentLogger });
    expect(r.company).toBeNull();
    expect(r.social).toMatchObject({ available: false, reason: 'no social source for simulated market data' });
  });
});

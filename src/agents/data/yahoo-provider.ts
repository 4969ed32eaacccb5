import YahooFinance from 'yahoo-finance2';
import { DateTime } from 'luxon';
import type { Bar, NewsItem } from '../analysis-types.ts';
import { DataSourceUnavailableError, UnknownTickerError, type MarketDataProvider } from './market-data-provider.ts';

/** Yahoo rate-limits non-browser clients: look like a browser. */
const BROWSER_UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36';
const quietLogger = { info() {}, warn() {}, error() {}, debug() {}, dir() {} };

interface ChartShape {
  meta?: { regularMarketPrice?: number; regularMarketTime?: Date | number };
  quotes?: Array<{ date: Date | string; open: number | null; high: number | null; low: number | null; close: number | null; volume: number | null }>;
}

/**
 * Keyless market data through the `yahoo-finance2` package (chart, search, quoteSummary). `fetch` is
 * injectable so tests point the real client at a local server speaking Yahoo's wire format.
 */
export function createYahooProvider(opts: { fetch?: typeof fetch; timeoutMs?: number } = {}): MarketDataProvider {
  const yf = new YahooFinance({
    logger: quietLogger,
    suppressNotices: ['yahooSurvey', 'ripHistorical'],
    ...(opts.fetch ? { fetch: opts.fetch } : {}),
    fetchOptions: { headers: { 'User-Agent': BROWSER_UA } },
  } as ConstructorParameters<typeof YahooFinance>[0]);
  const timeoutMs = opts.timeoutMs ?? 8_000;
  const fetchOptions = (signal?: AbortSignal) => ({
    fetchOptions: { signal: signal ? AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]) : AbortSignal.timeout(timeoutMs), headers: { 'User-Agent': BROWSER_UA } },
    validateResult: false,
  });

  const chart = async (ticker: string, query: Record<string, unknown>, signal?: AbortSignal): Promise<ChartShape> => {
    try {
      const result = (await yf.chart(ticker, query as never, fetchOptions(signal) as never)) as unknown as ChartShape;
      // A 200 is not proof of data: check the shape before trusting it.
      if (!result || !Array.isArray(result.quotes)) throw new DataSourceUnavailableError(`yahoo: unexpected chart response for ${ticker}`);
      return result;
    } catch (err) {
      const msg = (err as Error).message ?? '';
      if (/No data found|symbol may be delisted|Not Found|404/i.test(msg)) throw new UnknownTickerError(`unknown ticker ${ticker} (yahoo: ${msg.split('\n')[0]})`);
      if (err instanceof DataSourceUnavailableError || signal?.aborted) throw err;
      throw new DataSourceUnavailableError(`yahoo unreachable: ${msg.split('\n')[0]}`);
    }
  };
  const toBars = (c: ChartShape): Bar[] =>
    (c.quotes ?? [])
      .filter((q) => q.open !== null && q.high !== null && q.low !== null && q.close !== null)
      .map((q) => ({ t: new Date(q.date).toISOString(), o: q.open!, h: q.high!, l: q.low!, c: q.close!, v: q.volume ?? 0 }));

  return {
    name: 'yahoo',
    async getDailyBars(ticker, { to, lookbackDays, signal }) {
      const end = DateTime.fromISO(to, { zone: 'America/New_York' }).plus({ days: 1 });
      const start = end.minus({ days: Math.ceil(lookbackDays * 1.5) + 5 });
      const bars = toBars(await chart(ticker, { period1: start.toJSDate(), period2: end.toJSDate(), interval: '1d' }, signal));
      return bars.slice(-lookbackDays);
    },
    async getIntradayBars(ticker, { date, signal }) {
      const day = DateTime.fromISO(date, { zone: 'America/New_York' });
      return toBars(await chart(ticker, { period1: day.toJSDate(), period2: day.plus({ days: 1 }).toJSDate(), interval: '5m' }, signal));
    },
    async getQuote(ticker, { signal }) {
      const c = await chart(ticker, { period1: DateTime.now().minus({ days: 5 }).toJSDate(), interval: '1d' }, signal);
      const price = c.meta?.regularMarketPrice;
      if (typeof price !== 'number') return null;
      const time = c.meta?.regularMarketTime;
      return { price, time: new Date(time instanceof Date ? time : typeof time === 'number' ? time * 1000 : Date.now()).toISOString() };
    },
    async getFundamentals(ticker, { signal }) {
      try {
        const s = (await yf.quoteSummary(ticker, { modules: ['summaryDetail', 'defaultKeyStatistics', 'financialData'] }, fetchOptions(signal) as never)) as Record<string, Record<string, unknown> | undefined>;
        const pick = (mod: string, key: string) => {
          const v = s[mod]?.[key];
          return typeof v === 'number' || typeof v === 'string' ? v : null;
        };
        return {
          market_cap: pick('summaryDetail', 'marketCap'),
          trailing_pe: pick('summaryDetail', 'trailingPE'),
          forward_pe: pick('summaryDetail', 'forwardPE'),
          dividend_yield: pick('summaryDetail', 'dividendYield'),
          beta: pick('summaryDetail', 'beta'),
          profit_margins: pick('financialData', 'profitMargins'),
          revenue_growth: pick('financialData', 'revenueGrowth'),
          debt_to_equity: pick('financialData', 'debtToEquity'),
          recommendation: pick('financialData', 'recommendationKey'),
        };
      } catch {
        return null; // fundamentals are optional; the analyst reports them unavailable
      }
    },
    async getNews(ticker, { signal }) {
      try {
        const r = (await yf.search(ticker, { newsCount: 10, quotesCount: 0 }, fetchOptions(signal) as never)) as { news?: Array<{ title?: string; publisher?: string; providerPublishTime?: Date; link?: string }> };
        if (!Array.isArray(r.news)) return null;
        return r.news
          .filter((n) => typeof n.title === 'string')
          .map((n): NewsItem => ({ title: n.title!, publisher: n.publisher, published_at: n.providerPublishTime ? new Date(n.providerPublishTime).toISOString() : undefined, url: n.link }));
      } catch {
        return null;
      }
    },
  };
}

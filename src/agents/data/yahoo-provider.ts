import { DateTime } from 'luxon';
import { nyDate } from '../../calendar/index.ts';
import type { Bar, NewsItem } from '../analysis-types.ts';
import { cutoffOf } from './point-in-time.ts';
import { createYahooClient, finite, RATIO_MODULES, valuationRatios, type QuoteSummary } from './yahoo-client.ts';
import { DataSourceUnavailableError, UnknownTickerError, type MarketDataProvider } from './market-data-provider.ts';


interface ChartQuote {
  date: Date | string | number;
  open: number | null;
  high: number | null;
  low: number | null;
  close: number | null;
  volume: number | null;
}
interface ChartShape {
  meta?: { regularMarketPrice?: number; regularMarketTime?: Date | number | string };
  quotes?: ChartQuote[];
}

const firstLine = (err: unknown) => String((err as Error)?.message ?? err).split('\n')[0]!.slice(0, 200);
const isoTime = (t: Date | number | string | undefined, fallback: Date) =>
  new Date(t instanceof Date ? t : typeof t === 'number' ? t * 1000 : typeof t === 'string' ? t : fallback).toISOString();

/** Yahoo's way of saying the symbol does not exist (chart 404, quoteSummary "Quote not found"). */
const NOT_FOUND = /No data found|symbol may be delisted|Quote not found|Not Found/i;

/**
 * Keyless market data through the `yahoo-finance2` client (chart, quote, quoteSummary, search). The
 * client's own schema validation only logs here (Yahoo adds and drops optional fields often); instead
 * every answer is checked for the fields we use before it is trusted. `fetch` is injectable so tests
 * point the real client at a local server speaking Yahoo's wire format.
 */
export function createYahooProvider(opts: { fetch?: typeof fetch; timeoutMs?: number; now?: () => Date } = {}): MarketDataProvider {
  const { yf, moduleOptions } = createYahooClient(opts);
  const now = () => opts.now?.() ?? new Date();

  /** Maps the client's errors to ours: unknown symbol (permanent), or source unavailable (retry / fall back). */
  const classify = (err: unknown, ticker: string, signal?: AbortSignal): Error => {
    if (signal?.aborted) return err as Error;
    if (err instanceof DataSourceUnavailableError || err instanceof UnknownTickerError) return err;
    const msg = firstLine(err);
    if (NOT_FOUND.test(msg)) return new UnknownTickerError(`unknown ticker ${ticker} (yahoo: ${msg})`);
    return new DataSourceUnavailableError(`yahoo unreachable or answered nonsense: ${msg}`);
  };

  const chart = async (ticker: string, query: Record<string, unknown>, signal?: AbortSignal): Promise<ChartShape> => {
    try {
      const result = (await yf.chart(ticker, query as never, moduleOptions(signal))) as unknown as ChartShape;
      // A 200 is not proof of data: check the shape before trusting it.
      if (!result || typeof result !== 'object' || !Array.isArray(result.quotes)) throw new DataSourceUnavailableError(`yahoo: unexpected chart response for ${ticker}`);
      return result;
    } catch (err) {
      throw classify(err, ticker, signal);
    }
  };

  /** Valid rows only (Yahoo pads holidays and halts with nulls), oldest first, one bar per time. */
  const toBars = (c: ChartShape, onePerDay: boolean): Bar[] => {
    const out = new Map<string, Bar>();
    for (const q of c.quotes ?? []) {
      if (!finite(q.open) || !finite(q.high) || !finite(q.low) || !finite(q.close)) continue;
      const t = new Date(q.date instanceof Date ? q.date : typeof q.date === 'number' ? q.date * 1000 : q.date);
      if (Number.isNaN(t.getTime())) continue;
      // Yahoo sometimes sends today's forming daily bar twice (session start and last trade): keep the later.
      const key = onePerDay ? DateTime.fromJSDate(t, { zone: 'America/New_York' }).toISODate()! : t.toISOString();
      out.set(key, { t: t.toISOString(), o: q.open, h: q.high, l: q.low, c: q.close, v: finite(q.volume) ? q.volume : 0 });
    }
    return [...out.values()].sort((a, b) => a.t.localeCompare(b.t));
  };

  return {
    name: 'yahoo',
    async getDailyBars(ticker, { to, lookbackDays, signal }) {
      const end = DateTime.fromISO(to, { zone: 'America/New_York' }).plus({ days: 1 }).startOf('day');
      // Calendar days to cover the trading sessions asked for, holidays included.
      const start = end.minus({ days: Math.ceil(lookbackDays * 1.5) + 7 });
      const bars = toBars(await chart(ticker, { period1: start.toJSDate(), period2: end.toJSDate(), interval: '1d' }, signal), true);
      if (bars.length === 0) throw new UnknownTickerError(`unknown ticker ${ticker} (yahoo returned no daily bars up to ${to})`);
      return bars.slice(-lookbackDays);
    },
    async getIntradayBars(ticker, { date, interval = '5m', signal }) {
      const day = DateTime.fromISO(date, { zone: 'America/New_York' }).startOf('day');
      const c = await chart(ticker, { period1: day.toJSDate(), period2: day.plus({ days: 1 }).toJSDate(), interval, includePrePost: false }, signal);
      return toBars(c, false);
    },
    async getQuote(ticker, { signal }) {
      try {
        const q = (await yf.quote(ticker, { fields: ['symbol', 'regularMarketPrice', 'regularMarketTime'] } as never, moduleOptions(signal))) as unknown as
          | { regularMarketPrice?: unknown; regularMarketTime?: Date | number | string }
          | undefined;
        if (q && finite(q.regularMarketPrice) && q.regularMarketPrice > 0) return { price: q.regularMarketPrice, time: isoTime(q.regularMarketTime, now()) };
      } catch (err) {
        if (signal?.aborted) throw err;
        // The quote endpoint needs a cookie and crumb, which Yahoo withholds at times; the chart does not.
      }
      const c = await chart(ticker, { period1: DateTime.fromJSDate(now()).minus({ days: 7 }).toJSDate(), period2: now(), interval: '1d' }, signal);
      const price = c.meta?.regularMarketPrice;
      if (!finite(price) || price <= 0) return null;
      return { price, time: isoTime(c.meta?.regularMarketTime, now()) };
    },
    async getFundamentals(ticker, { signal, asOf }) {
      // These ratios are today's: a backdated cycle gets none rather than values from after its date.
      if (asOf && asOf < nyDate(now())) return null;
      let s: QuoteSummary;
      try {
        s = (await yf.quoteSummary(ticker, { modules: RATIO_MODULES } as never, moduleOptions(signal))) as never;
      } catch (err) {
        if (signal?.aborted) throw err;
        return null; // ETFs and indices have none; the analyst then reports fundamentals unavailable
      }
      if (!s || typeof s !== 'object') return null;
      return valuationRatios(s, { recommendation: ['financialData', 'recommendationKey'] });
    },
    async getNews(ticker, { signal, asOf }) {
      let r: { news?: unknown };
      try {
        r = (await yf.search(ticker, { newsCount: 10, quotesCount: 0 }, moduleOptions(signal))) as never;
      } catch (err) {
        if (signal?.aborted) throw err;
        return null;
      }
      if (!r || !Array.isArray(r.news)) return null;
      const items = (r.news as Array<{ title?: unknown; publisher?: unknown; providerPublishTime?: Date | number; link?: unknown }>)
        .filter((n) => typeof n.title === 'string' && n.title.length > 0)
        .map((n): NewsItem => ({
          title: n.title as string,
          publisher: typeof n.publisher === 'string' ? n.publisher : undefined,
          published_at: n.providerPublishTime ? isoTime(n.providerPublishTime, now()) : undefined,
          url: typeof n.link === 'string' ? n.link : undefined,
        }));
      if (!asOf) return items;
      // Search serves the latest items only: undated ones or ones after the cutoff are not the date's news.
      const cutoff = cutoffOf(asOf, now()).getTime();
      const seen = items.filter((n) => n.published_at && Date.parse(n.published_at) <= cutoff);
      return seen.length ? seen : null;
    },
  };
}

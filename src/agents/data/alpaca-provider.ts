import { DateTime } from 'luxon';
import type { Bar, NewsItem } from '../analysis-types.ts';
import { DataSourceUnavailableError, UnknownTickerError, type MarketDataProvider } from './market-data-provider.ts';

/** Alpaca market data REST (v2 bars/trades, v1beta1 news) with the account's key pair. */
export function createAlpacaProvider(opts: { keyId: string; secretKey: string; baseUrl: string; fetch?: typeof fetch; timeoutMs?: number }): MarketDataProvider {
  const doFetch = opts.fetch ?? fetch;
  const get = async <T>(path: string, params: Record<string, string>, signal?: AbortSignal): Promise<T> => {
    const url = new URL(path, opts.baseUrl);
    for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
    const timeout = AbortSignal.timeout(opts.timeoutMs ?? 8_000);
    let res: Response;
    try {
      res = await doFetch(url, {
        headers: { 'APCA-API-KEY-ID': opts.keyId, 'APCA-API-SECRET-KEY': opts.secretKey, Accept: 'application/json' },
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
    } catch (err) {
      throw new DataSourceUnavailableError(`alpaca unreachable: ${(err as Error).message}`);
    }
    if (res.status === 404 || res.status === 422) throw new UnknownTickerError(`alpaca: ${res.status} for ${url.pathname}`);
    if (!res.ok) throw new DataSourceUnavailableError(`alpaca answered ${res.status}`);
    if (!(res.headers.get('content-type') ?? '').includes('json')) throw new DataSourceUnavailableError('alpaca answered with something that is not JSON');
    return (await res.json()) as T;
  };
  type AlpacaBar = { t: string; o: number; h: number; l: number; c: number; v: number };
  const bars = async (ticker: string, timeframe: string, start: DateTime, end: DateTime, signal?: AbortSignal): Promise<Bar[]> => {
    const body = await get<{ bars?: AlpacaBar[] | null }>(`/v2/stocks/${encodeURIComponent(ticker)}/bars`, { timeframe, start: start.toUTC().toISO()!, end: end.toUTC().toISO()!, limit: '10000', adjustment: 'split', feed: 'iex' }, signal);
    if (body.bars !== null && body.bars !== undefined && !Array.isArray(body.bars)) throw new DataSourceUnavailableError('alpaca: unexpected bars shape');
    return (body.bars ?? []).map((b) => ({ t: new Date(b.t).toISOString(), o: b.o, h: b.h, l: b.l, c: b.c, v: b.v }));
  };
  return {
    name: 'alpaca',
    async getDailyBars(ticker, { to, lookbackDays, signal }) {
      const end = DateTime.fromISO(to, { zone: 'America/New_York' }).endOf('day');
      const result = await bars(ticker, '1Day', end.minus({ days: Math.ceil(lookbackDays * 1.5) + 5 }), end, signal);
      if (result.length === 0) throw new UnknownTickerError(`unknown ticker ${ticker} (alpaca returned no bars)`);
      return result.slice(-lookbackDays);
    },
    async getIntradayBars(ticker, { date, signal }) {
      const day = DateTime.fromISO(date, { zone: 'America/New_York' });
      return bars(ticker, '5Min', day.startOf('day'), day.endOf('day'), signal);
    },
    async getQuote(ticker, { signal }) {
      const body = await get<{ trade?: { p?: number; t?: string } }>(`/v2/stocks/${encodeURIComponent(ticker)}/trades/latest`, { feed: 'iex' }, signal);
      return typeof body.trade?.p === 'number' ? { price: body.trade.p, time: body.trade.t ?? new Date().toISOString() } : null;
    },
    async getFundamentals() {
      return null; // Alpaca's market data has no fundamentals
    },
    async getNews(ticker, { signal }) {
      const body = await get<{ news?: Array<{ headline?: string; source?: string; created_at?: string; url?: string }> }>('/v1beta1/news', { symbols: ticker, limit: '10' }, signal);
      if (!Array.isArray(body.news)) return null;
      return body.news.filter((n) => n.headline).map((n): NewsItem => ({ title: n.headline!, publisher: n.source, published_at: n.created_at, url: n.url }));
    },
  };
}

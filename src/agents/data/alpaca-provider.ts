import { DateTime } from 'luxon';
import { MarketCalendar } from '../../calendar/index.ts';
import type { Bar, NewsItem } from '../analysis-types.ts';
import { cutoffOf } from './point-in-time.ts';
import { DataSourceUnavailableError, UnknownTickerError, type MarketDataProvider } from './market-data-provider.ts';

const calendar = new MarketCalendar();
/** Pages followed per request at most: a year of daily bars or a day of 5-minute bars fits in one. */
const MAX_PAGES = 5;

type AlpacaBar = { t: string; o: number; h: number; l: number; c: number; v: number };
const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/**
 * Alpaca market data REST (v2 bars and latest trade, v1beta1 news) with the account's key pair. The IEX
 * feed is used because it is the one every account, free included, may read. Alpaca has no fundamentals.
 */
export function createAlpacaProvider(opts: { keyId: string; secretKey: string; baseUrl: string; fetch?: typeof fetch; timeoutMs?: number; feed?: string }): MarketDataProvider {
  const doFetch = opts.fetch ?? fetch;
  const feed = opts.feed ?? 'iex';
  const get = async <T>(path: string, params: Record<string, string>, ticker: string, signal?: AbortSignal): Promise<T> => {
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
      if (signal?.aborted) throw err;
      throw new DataSourceUnavailableError(`alpaca unreachable: ${(err as Error).message}`);
    }
    // 400/422 are Alpaca's answers to a symbol it does not know ("invalid symbol").
    if (res.status === 400 || res.status === 422) throw new UnknownTickerError(`unknown ticker ${ticker} (alpaca answered ${res.status})`);
    if (res.status === 401 || res.status === 403) throw new DataSourceUnavailableError(`alpaca answered ${res.status}: check ALPACA_API_KEY_ID / ALPACA_API_SECRET_KEY`);
    if (!res.ok) throw new DataSourceUnavailableError(`alpaca answered ${res.status}${res.status === 404 ? ' (check ALPACA_DATA_URL)' : ''}`);
    if (!(res.headers.get('content-type') ?? '').includes('json')) throw new DataSourceUnavailableError('alpaca answered with something that is not JSON');
    try {
      return (await res.json()) as T;
    } catch {
      throw new DataSourceUnavailableError('alpaca answered with malformed JSON');
    }
  };

  const bars = async (ticker: string, timeframe: string, start: Date, end: Date, signal?: AbortSignal): Promise<Bar[]> => {
    const out: Bar[] = [];
    let pageToken: string | null = null;
    for (let page = 0; page < MAX_PAGES; page++) {
      const params: Record<string, string> = { timeframe, start: start.toISOString(), end: end.toISOString(), limit: '10000', adjustment: 'split', feed };
      if (pageToken) params.page_token = pageToken;
      const body = await get<{ bars?: unknown; next_page_token?: string | null }>(`/v2/stocks/${encodeURIComponent(ticker)}/bars`, params, ticker, signal);
      if (body.bars !== null && body.bars !== undefined && !Array.isArray(body.bars)) throw new DataSourceUnavailableError('alpaca: unexpected bars shape');
      for (const b of (body.bars ?? []) as AlpacaBar[]) {
        if (!finite(b.o) || !finite(b.h) || !finite(b.l) || !finite(b.c) || Number.isNaN(Date.parse(b.t))) continue;
        out.push({ t: new Date(b.t).toISOString(), o: b.o, h: b.h, l: b.l, c: b.c, v: finite(b.v) ? b.v : 0 });
      }
      pageToken = body.next_page_token ?? null;
      if (!pageToken) break;
    }
    return out;
  };

  return {
    name: 'alpaca',
    async getDailyBars(ticker, { to, lookbackDays, signal }) {
      const end = DateTime.fromISO(to, { zone: 'America/New_York' }).endOf('day');
      const result = await bars(ticker, '1Day', end.minus({ days: Math.ceil(lookbackDays * 1.5) + 7 }).toJSDate(), end.toJSDate(), signal);
      if (result.length === 0) throw new UnknownTickerError(`unknown ticker ${ticker} (alpaca returned no bars up to ${to})`);
      return result.slice(-lookbackDays);
    },
    async getIntradayBars(ticker, { date, signal }) {
      const session = calendar.sessionOn(date, 'regular');
      if (!session) return [];
      // Regular session only, as from the other sources: IEX also prints pre- and post-market bars.
      return bars(ticker, '5Min', session.open, new Date(session.close.getTime() - 1), signal);
    },
    async getQuote(ticker, { signal }) {
      const body = await get<{ trade?: { p?: unknown; t?: string } }>(`/v2/stocks/${encodeURIComponent(ticker)}/trades/latest`, { feed }, ticker, signal);
      const p = body.trade?.p;
      return finite(p) && p > 0 ? { price: p, time: new Date(body.trade?.t ?? Date.now()).toISOString() } : null;
    },
    async getFundamentals() {
      return null; // Alpaca's market data has no fundamentals
    },
    async getNews(ticker, { signal, asOf }) {
      // Alpaca's news API takes an end time: a backdated cycle asks for what was out by that day's close.
      const end: Record<string, string> = asOf ? { end: cutoffOf(asOf).toISOString() } : {};
      const body = await get<{ news?: Array<{ headline?: string; summary?: string; source?: string; created_at?: string; url?: string }> }>('/v1beta1/news', { symbols: ticker, limit: '10', sort: 'desc', ...end }, ticker, signal);
      if (!Array.isArray(body.news)) return null;
      return body.news.filter((n) => typeof n.headline === 'string' && n.headline).map((n): NewsItem => ({ title: n.headline!, publisher: n.source, published_at: n.created_at, url: n.url, ...(n.summary ? { summary: n.summary.slice(0, 400) } : {}) }));
    },
  };
}

import type { Bar, NewsItem } from '../analysis-types.ts';

/** A source of market data. A method answers null when the source does not have that kind of data. */
export interface MarketDataProvider {
  readonly name: string;
  /** Daily bars ending at `to` (YYYY-MM-DD, inclusive), oldest first. */
  getDailyBars(ticker: string, opts: { to: string; lookbackDays: number; signal?: AbortSignal }): Promise<Bar[]>;
  /** Intraday bars (5-minute, the only interval used) of the regular session on `date`, oldest first (empty before the open). */
  getIntradayBars(ticker: string, opts: { date: string; interval?: '5m'; signal?: AbortSignal }): Promise<Bar[] | null>;
  getQuote(ticker: string, opts: { signal?: AbortSignal }): Promise<{ price: number; time: string } | null>;
  getFundamentals(ticker: string, opts: { signal?: AbortSignal }): Promise<Record<string, number | string | null> | null>;
  getNews(ticker: string, opts: { signal?: AbortSignal }): Promise<NewsItem[] | null>;
}

/** The symbol does not exist at the source: retrying cannot help. */
export class UnknownTickerError extends Error {
  override name = 'UnknownTickerError';
}

/** The source could not be reached or answered nonsense (network, 5xx, HTML instead of JSON). */
export class DataSourceUnavailableError extends Error {
  override name = 'DataSourceUnavailableError';
}

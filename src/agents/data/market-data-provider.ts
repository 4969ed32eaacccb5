import type { Bar, NewsItem } from '../analysis-types.ts';

/** A source of market data. A method answers null when the source does not have that kind of data. */
export interface MarketDataProvider {
  readonly name: string;
  /** Daily bars ending at `to` (YYYY-MM-DD, inclusive), oldest first. */
  getDailyBars(ticker: string, opts: { to: string; lookbackDays: number; signal?: AbortSignal }): Promise<Bar[]>;
  /** Intraday bars (5-minute, the only interval used) of the regular session on `date`, oldest first (empty before the open). */
  getIntradayBars(ticker: string, opts: { date: string; interval?: '5m'; signal?: AbortSignal }): Promise<Bar[] | null>;
  getQuote(ticker: string, opts: { signal?: AbortSignal }): Promise<{ price: number; time: string } | null>;
  /**
   * `asOf` (YYYY-MM-DD, New York) keeps the answer point-in-time: what the source cannot give as of
   * that date is null, never today's value.
   */
  getFundamentals(ticker: string, opts: { signal?: AbortSignal; asOf?: string }): Promise<Record<string, number | string | null> | null>;
  /** `asOf`: only items published by that day's close in New York. */
  getNews(ticker: string, opts: { signal?: AbortSignal; asOf?: string }): Promise<NewsItem[] | null>;
}

/** The symbol does not exist at the source: retrying cannot help. */
export class UnknownTickerError extends Error {
  override name = 'UnknownTickerError';
}

/** The source could not be reached or answered nonsense (network, 5xx, HTML instead of JSON). */
export class DataSourceUnavailableError extends Error {
  override name = 'DataSourceUnavailableError';
}

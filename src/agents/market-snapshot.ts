import { PermanentCycleError, type Logger } from '../core/index.ts';
import type { MarketSnapshot } from './analysis-types.ts';
import { UnknownTickerError, type MarketDataProvider } from './data/market-data-provider.ts';
import { computeIndicators } from './indicators.ts';

/** Sessions of daily history: SMA200 plus a margin for its slope and the scorecard's +5 days. */
export const DAILY_LOOKBACK = 300;
/** A quote this far from the last close is a bad print or a wrong symbol, not a price to trade at. */
const MAX_QUOTE_GAP = 0.5;

export interface SnapshotRequest {
  ticker: string;
  /** Analysis date, YYYY-MM-DD in New York. */
  date: string;
  /** True when the date is today: intraday bars and a live quote are worth fetching. */
  live: boolean;
  signal: AbortSignal;
  logger: Logger;
}

/**
 * Fetches everything an engine analyses, once, before analysis starts. Daily bars are required (an
 * unknown symbol fails the cycle for good); intraday bars, the quote, fundamentals and news are
 * optional: when a source lacks them or fails, the section is null and the reports say so.
 */
export async function buildMarketSnapshot(provider: MarketDataProvider, req: SnapshotRequest): Promise<{ snapshot: MarketSnapshot; price: number }> {
  const { ticker, date, signal, logger } = req;
  let daily;
  try {
    daily = await provider.getDailyBars(ticker, { to: date, lookbackDays: DAILY_LOOKBACK, signal });
  } catch (err) {
    if (err instanceof UnknownTickerError) throw new PermanentCycleError(err.message);
    throw err;
  }
  if (daily.length === 0) throw new PermanentCycleError(`no price history for ${ticker} up to ${date}`);
  const optional = async <T>(what: string, load: () => Promise<T | null>): Promise<T | null> => {
    try {
      return await load();
    } catch (err) {
      if (signal.aborted) throw err;
      logger.warn({ ticker, source: provider.name, err: (err as Error).message }, `market data: ${what} unavailable`);
      return null;
    }
  };
  const [intraday, quote, fundamentals, news] = await Promise.all([
    req.live ? optional('intraday bars', () => provider.getIntradayBars(ticker, { date, interval: '5m', signal })) : Promise.resolve(null),
    req.live ? optional('quote', () => provider.getQuote(ticker, { signal })) : Promise.resolve(null),
    optional('fundamentals', () => provider.getFundamentals(ticker, { signal, asOf: date })),
    optional('news', () => provider.getNews(ticker, { signal, asOf: date })),
  ]);
  const lastClose = daily.at(-1)!.c;
  let trustedQuote = quote;
  if (quote && Math.abs(quote.price / lastClose - 1) > MAX_QUOTE_GAP) {
    logger.warn({ ticker, quote: quote.price, last_close: lastClose }, 'market data: quote too far from the last close, ignored');
    trustedQuote = null;
  }
  const snapshot: MarketSnapshot = {
    ticker,
    date,
    data_source: provider.name,
    daily,
    intraday,
    quote: trustedQuote,
    fundamentals,
    news,
    indicators: computeIndicators(daily),
  };
  // The latest price at decision time: a live quote, else the last 5-minute close, else the daily close.
  const price = trustedQuote?.price ?? intraday?.at(-1)?.c ?? lastClose;
  return { snapshot, price };
}

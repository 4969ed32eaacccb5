import { nyDate } from '../calendar/index.ts';
import { PermanentCycleError, type Logger } from '../core/index.ts';
import type { MarketSnapshot } from './analysis-types.ts';
import { UnknownTickerError, type MarketDataProvider } from './data/market-data-provider.ts';
import { computeIndicators } from './indicators.ts';
import { dailyCloseTime, INTRADAY_BAR_MS, intradayCloseTime } from './price-time.ts';

/** Sessions of daily history: SMA200 plus a margin for its slope and the scorecard's +5 days. */
export const DAILY_LOOKBACK = 300;
/** A quote this far from the last close is a bad print or a wrong symbol, not a price to trade at. */
const MAX_QUOTE_GAP = 0.5;

export interface SnapshotRequest {
  ticker: string;
  /** Analysis date, YYYY-MM-DD in New York. */
  date: string;
  /** True when the date is today: a live quote is worth fetching. */
  live: boolean;
  /** An intraday instant of `date` (replays of a schedule's slots): only bars closed by then are seen. */
  asOf?: Date;
  /** The cycle's clock (default: the real one): whether the last daily bar's session had closed when it was read. */
  now?: () => Date;
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
  // Point in time: a source that answers with bars after the analysis date must not leak them in.
  daily = daily.filter((b) => nyDate(new Date(b.t)) <= date);
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
  const [rawIntraday, quote, fundamentals, news] = await Promise.all([
    optional('intraday bars', () => provider.getIntradayBars(ticker, { date, interval: '5m', signal })),
    req.live ? optional('quote', () => provider.getQuote(ticker, { signal })) : Promise.resolve(null),
    optional('fundamentals', () => provider.getFundamentals(ticker, { signal, asOf: date })),
    optional('news', () => provider.getNews(ticker, { signal, asOf: date })),
  ]);
  // Point in time: only bars of the analysis date itself, never a later one a source might add.
  let intraday = rawIntraday ? rawIntraday.filter((b) => nyDate(new Date(b.t)) === date) : null;
  if (req.asOf) {
    // As of an intraday instant: the 5-minute bars closed by then, and the day's bar is the session so far.
    // The day's full bar goes whatever the intraday source answered: without intraday bars the cycle sees
    // the sessions before, never a close that came after its instant.
    const cut = req.asOf.getTime();
    if (nyDate(new Date(daily.at(-1)!.t)) === date) daily = daily.slice(0, -1);
    if (intraday) {
      intraday = intraday.filter((b) => Date.parse(b.t) + INTRADAY_BAR_MS <= cut);
      if (intraday.length) daily = [...daily, { t: intraday[0]!.t, o: intraday[0]!.o, h: Math.max(...intraday.map((b) => b.h)), l: Math.min(...intraday.map((b) => b.l)), c: intraday.at(-1)!.c, v: intraday.reduce((n, b) => n + b.v, 0) }];
    }
    if (daily.length === 0) throw new PermanentCycleError(`no price history for ${ticker} as of ${req.asOf.toISOString()}`);
  }
  const lastClose = daily.at(-1)!.c;
  let trustedQuote = quote;
  if (quote && Math.abs(quote.price / lastClose - 1) > MAX_QUOTE_GAP) {
    logger.warn({ ticker, quote: quote.price, last_close: lastClose }, 'market data: quote too far from the last close, ignored');
    trustedQuote = null;
  }
  const unavailable = [
    ...(intraday === null || intraday.length === 0 ? ['intraday'] : []),
    ...(fundamentals === null ? ['fundamentals'] : []),
    ...(news === null ? ['news'] : []),
    ...(req.live && trustedQuote === null ? ['quote'] : []),
  ];
  // The decision is taken at the last bar seen: its close is the price, its time the as-of instant. Either
  // bar is known by the time its close was struck, never by its opening stamp: a 5-minute bar five minutes
  // after it opened (a forming one: when it was read), a daily bar (no intraday bars for the date, or the
  // fetch failed) at its session's close.
  const lastIntraday = intraday?.at(-1);
  const lastBar = lastIntraday ?? daily.at(-1)!;
  const seenAt = req.asOf ?? req.now?.() ?? new Date();
  const snapshot: MarketSnapshot = {
    ticker,
    date,
    data_source: provider.name,
    as_of: lastIntraday ? intradayCloseTime(lastIntraday, seenAt) : dailyCloseTime(lastBar, seenAt),
    unavailable,
    daily,
    intraday,
    quote: trustedQuote,
    fundamentals,
    news,
    indicators: computeIndicators(daily),
  };
  return { snapshot, price: lastBar.c };
}

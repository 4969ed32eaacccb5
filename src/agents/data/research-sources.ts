import type { Redis } from 'ioredis';
import { nyDate } from '../../calendar/index.ts';
import { productKeys, type Config, type Logger } from '../../core/index.ts';
import type { NewsItem } from '../analysis-types.ts';
import { createYahooFundamentalsSource, type CompanyProfile, type FundamentalsReport, type FundamentalsSource } from './fundamentals-source.ts';
import { createYahooNewsSource, type NewsSource } from './news-source.ts';
import { unavailable, type PointInTime } from './point-in-time.ts';
import { createStockTwitsSource, type SocialPost, type SocialSource } from './stocktwits-source.ts';

/** The symbol whose feed stands for the market as a whole. */
export const MARKET_NEWS_SYMBOL = '^GSPC';

/** What the LLM desk's analysts read besides prices, each as of the analysis date. */
export interface ResearchData {
  company: CompanyProfile | null;
  news: PointInTime<NewsItem[]>;
  market_news: PointInTime<NewsItem[]>;
  fundamentals: PointInTime<FundamentalsReport>;
  social: PointInTime<SocialPost[]>;
}

export interface ResearchSources {
  news: NewsSource | null;
  fundamentals: FundamentalsSource | null;
  social: SocialSource | null;
}

/** The keyless sources for a cycle on real market data; none on simulated data (real news would not match simulated prices). */
export function researchSourcesFor(dataSource: string, config: Pick<Config, 'SOCIAL_SOURCE'>, opts: { fetch?: typeof fetch; now?: () => Date } = {}): ResearchSources {
  if (dataSource === 'simulated') return { news: null, fundamentals: null, social: null };
  return {
    news: createYahooNewsSource(opts),
    fundamentals: createYahooFundamentalsSource(opts),
    social: config.SOCIAL_SOURCE === 'stocktwits' ? createStockTwitsSource(opts) : null,
  };
}

const PAST_TTL_S = 6 * 3600;
const TODAY_TTL_S = 15 * 60;
/** An unavailable answer may be a passing outage: asked again soon. */
const UNAVAILABLE_TTL_S = 120;

/**
 * Loads the research for (ticker, date) from the sources, each cached in Redis under a key carrying the
 * analysis date, so a backdated cycle never reads what a cycle for today cached. A source that fails is
 * reported unavailable; it never fails the cycle.
 */
export async function loadResearch(
  sources: ResearchSources,
  req: { ticker: string; date: string; dataSource: string; signal: AbortSignal; logger: Logger; redis?: Redis; prefix?: string; now?: () => Date },
): Promise<ResearchData> {
  const { ticker, date, signal } = req;
  const today = nyDate(req.now?.() ?? new Date());
  const none = <T>(what: string): PointInTime<T> => unavailable(req.dataSource, date, `no ${what} source for ${req.dataSource} market data`);
  const cached = async <T>(parts: string[], load: () => Promise<T>, ttlOf: (v: T) => number): Promise<T> => {
    if (!req.redis || !req.prefix) return load();
    const key = productKeys(req.prefix).custom('cache', 'research', ...parts);
    const hit = await req.redis.get(key).catch(() => null);
    if (hit) return JSON.parse(hit) as T;
    const value = await load();
    await req.redis.set(key, JSON.stringify(value), 'EX', ttlOf(value)).catch(() => undefined);
    return value;
  };
  const pitTtl = (p: PointInTime<unknown>) => (!p.available ? UNAVAILABLE_TTL_S : date < today ? PAST_TTL_S : TODAY_TTL_S);
  const guard = async <T>(what: string, source: string, load: () => Promise<PointInTime<T>>): Promise<PointInTime<T>> => {
    try {
      return await load();
    } catch (err) {
      if (signal.aborted) throw err;
      req.logger.warn({ ticker, source, err: (err as Error).message }, `research: ${what} unavailable`);
      return unavailable(source, date, (err as Error).message.slice(0, 160));
    }
  };
  const { news, fundamentals, social } = sources;
  const [company, tickerNews, marketNews, funds, posts] = await Promise.all([
    fundamentals
      ? cached(['profile', fundamentals.name, ticker], () => fundamentals.getProfile(ticker, { signal }).catch((err) => (signal.aborted ? Promise.reject(err) : null)), (p) => (p ? 24 * 3600 : UNAVAILABLE_TTL_S))
      : Promise.resolve(null),
    news ? guard('news', news.name, () => cached(['news', news.name, ticker, date], () => news.getNews(ticker, { date, signal }), pitTtl)) : Promise.resolve(none<NewsItem[]>('news')),
    news ? guard('market news', news.name, () => cached(['news', news.name, MARKET_NEWS_SYMBOL, date], () => news.getNews(MARKET_NEWS_SYMBOL, { date, signal }), pitTtl)) : Promise.resolve(none<NewsItem[]>('news')),
    fundamentals
      ? guard('fundamentals', fundamentals.name, () => cached(['fundamentals', fundamentals.name, ticker, date], () => fundamentals.getFundamentals(ticker, { date, signal }), pitTtl))
      : Promise.resolve(none<FundamentalsReport>('fundamentals')),
    social ? guard('social posts', social.name, () => cached(['social', social.name, ticker, date], () => social.getPosts(ticker, { date, signal }), pitTtl)) : Promise.resolve(none<SocialPost[]>('social')),
  ]);
  return { company, news: tickerNews, market_news: marketNews, fundamentals: funds, social: posts };
}

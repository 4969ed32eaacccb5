import type { NewsItem } from '../analysis-types.ts';
import { cutoffOf, unavailable, type PointInTime } from './point-in-time.ts';

const BROWSER_UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36';
const MAX_ITEMS = 12;
const SUMMARY_CHARS = 400;

export interface NewsSource {
  readonly name: string;
  /** Dated items with summaries published by `date`'s close, newest first. */
  getNews(ticker: string, opts: { date: string; signal?: AbortSignal }): Promise<PointInTime<NewsItem[]>>;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", '#39': "'" };
const decode = (s: string) =>
  s
    .replace(/<!\[CDATA\[([\s\S]*?)\]\]>/g, '$1')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&(#\d+|#x[0-9a-f]+|\w+);/gi, (m, e: string) =>
      ENTITIES[e] ?? (e.startsWith('#x') ? String.fromCodePoint(parseInt(e.slice(2), 16)) : e.startsWith('#') ? String.fromCodePoint(Number(e.slice(1))) : m),
    )
    .replace(/\s+/g, ' ')
    .trim();
const tag = (xml: string, name: string) => {
  const m = new RegExp(`<${name}(?:\\s[^>]*)?>([\\s\\S]*?)</${name}>`, 'i').exec(xml);
  return m ? decode(m[1]!) : undefined;
};

/** Items of an RSS 2.0 document; throws when the body is not RSS (an HTML error page with status 200). */
export function parseRss(xml: string): NewsItem[] {
  if (!/<rss[\s>]/i.test(xml) || !/<channel[\s>]/i.test(xml)) throw new Error('not an RSS document');
  const items: NewsItem[] = [];
  for (const m of xml.matchAll(/<item(?:\s[^>]*)?>([\s\S]*?)<\/item>/gi)) {
    const body = m[1]!;
    const title = tag(body, 'title');
    const published = Date.parse(tag(body, 'pubDate') ?? '');
    if (!title || Number.isNaN(published)) continue; // an undated item cannot be placed before or after a date
    const summary = tag(body, 'description');
    items.push({
      title,
      published_at: new Date(published).toISOString(),
      url: tag(body, 'link'),
      publisher: tag(body, 'source'),
      summary: summary ? summary.slice(0, SUMMARY_CHARS) : undefined,
    });
  }
  return items;
}

/**
 * Keeps what was published by the cutoff. When the feed holds items but every one of them is newer
 * than the cutoff, the feed does not reach back to that date: unavailable, not "no news".
 */
export function newsAsOf(source: string, date: string, items: NewsItem[], now: Date): PointInTime<NewsItem[]> {
  const cutoff = cutoffOf(date, now).getTime();
  const dated = items.filter((n) => n.published_at).sort((a, b) => b.published_at!.localeCompare(a.published_at!));
  const seen = dated.filter((n) => Date.parse(n.published_at!) <= cutoff);
  if (seen.length === 0 && dated.length > 0) {
    return unavailable(source, date, `its feed only reaches back to ${dated.at(-1)!.published_at}, after ${date}'s close`);
  }
  const unique = [...new Map(seen.map((n) => [n.title.toLowerCase(), n])).values()];
  return { available: true, source, as_of: date, data: unique.slice(0, MAX_ITEMS), ...(dated.length > seen.length ? { note: `${dated.length - seen.length} later item(s) left out` } : {}) };
}

/**
 * Yahoo Finance's keyless headline feed (RSS: title, summary, date, link) per symbol. The market's news is
 * the same feed for the S&P 500 (`^GSPC`).
 */
export function createYahooNewsSource(opts: { fetch?: typeof fetch; timeoutMs?: number; now?: () => Date; baseUrl?: string } = {}): NewsSource {
  const doFetch = opts.fetch ?? fetch;
  const base = opts.baseUrl ?? 'https://feeds.finance.yahoo.com';
  const now = () => opts.now?.() ?? new Date();
  return {
    name: 'yahoo-rss',
    async getNews(ticker, { date, signal }) {
      const url = `${base}/rss/2.0/headline?s=${encodeURIComponent(ticker)}&region=US&lang=en-US`;
      const timeout = AbortSignal.timeout(opts.timeoutMs ?? 6_000);
      let items: NewsItem[];
      try {
        const res = await doFetch(url, { headers: { 'User-Agent': BROWSER_UA, Accept: 'application/rss+xml, application/xml' }, signal: signal ? AbortSignal.any([signal, timeout]) : timeout });
        if (!res.ok) return unavailable('yahoo-rss', date, `the feed answered ${res.status}`);
        items = parseRss(await res.text());
      } catch (err) {
        if (signal?.aborted) throw err;
        return unavailable('yahoo-rss', date, `the feed could not be read (${String((err as Error).message).slice(0, 120)})`);
      }
      return newsAsOf('yahoo-rss', date, items, now());
    },
  };
}

import { cutoffOf, unavailable, type PointInTime } from './point-in-time.ts';

const BROWSER_UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36';
/** Older pages fetched at most, to reach a past date's posts (the stream serves 30 a page, newest first). */
const MAX_PAGES = 3;
const MAX_POSTS = 25;
const BODY_CHARS = 280;

export interface SocialPost {
  at: string;
  body: string;
  /** The author's own tag, where given. */
  sentiment: 'Bullish' | 'Bearish' | null;
  likes: number;
  followers: number | null;
}

export interface SocialSource {
  readonly name: string;
  /** Posts published by `date`'s close, newest first. */
  getPosts(ticker: string, opts: { date: string; signal?: AbortSignal }): Promise<PointInTime<SocialPost[]>>;
}

interface StreamMessage {
  id?: unknown;
  body?: unknown;
  created_at?: unknown;
  user?: { followers?: unknown };
  entities?: { sentiment?: { basic?: unknown } | null };
  likes?: { total?: unknown };
}

/**
 * StockTwits' keyless public symbol stream (`/api/2/streams/symbol/<SYM>.json`). Its answers are
 * checked before use: it rate-limits hard and sometimes answers an HTML page with status 200.
 */
export function createStockTwitsSource(opts: { fetch?: typeof fetch; baseUrl?: string; timeoutMs?: number; now?: () => Date } = {}): SocialSource {
  const doFetch = opts.fetch ?? fetch;
  const base = opts.baseUrl ?? 'https://api.stocktwits.com';
  const now = () => opts.now?.() ?? new Date();
  const page = async (ticker: string, max: number | null, signal?: AbortSignal): Promise<{ messages: StreamMessage[]; next: number | null } | string> => {
    const url = new URL(`/api/2/streams/symbol/${encodeURIComponent(ticker)}.json`, base);
    if (max !== null) url.searchParams.set('max', String(max));
    const timeout = AbortSignal.timeout(opts.timeoutMs ?? 6_000);
    let res: Response;
    try {
      res = await doFetch(url, { headers: { 'User-Agent': BROWSER_UA, Accept: 'application/json' }, signal: signal ? AbortSignal.any([signal, timeout]) : timeout });
    } catch (err) {
      if (signal?.aborted) throw err;
      return `unreachable (${String((err as Error).message).slice(0, 100)})`;
    }
    if (res.status === 404) return `StockTwits does not know ${ticker}`;
    if (res.status === 429) return 'rate-limited by StockTwits (429)';
    if (!res.ok) return `StockTwits answered ${res.status}`;
    let body: { response?: { status?: unknown }; messages?: unknown; cursor?: { more?: unknown; max?: unknown } };
    try {
      body = JSON.parse(await res.text()) as typeof body;
    } catch {
      return 'StockTwits answered a page that is not JSON';
    }
    if (!body || !Array.isArray(body.messages)) return 'StockTwits answered JSON without messages';
    const next = body.cursor?.more === true && typeof body.cursor.max === 'number' ? body.cursor.max : null;
    return { messages: body.messages as StreamMessage[], next };
  };

  return {
    name: 'stocktwits',
    async getPosts(ticker, { date, signal }) {
      const cutoff = cutoffOf(date, now()).getTime();
      const posts: SocialPost[] = [];
      let oldest: string | null = null;
      let max: number | null = null;
      for (let n = 0; n < MAX_PAGES; n++) {
        const got = await page(ticker, max, signal);
        if (typeof got === 'string') {
          if (n === 0) return unavailable('stocktwits', date, got);
          break;
        }
        for (const m of got.messages) {
          const at = typeof m.created_at === 'string' ? Date.parse(m.created_at) : NaN;
          if (typeof m.body !== 'string' || Number.isNaN(at)) continue;
          oldest = new Date(at).toISOString();
          if (at > cutoff) continue;
          const basic = m.entities?.sentiment?.basic;
          posts.push({
            at: new Date(at).toISOString(),
            body: m.body.replace(/\s+/g, ' ').slice(0, BODY_CHARS),
            sentiment: basic === 'Bullish' || basic === 'Bearish' ? basic : null,
            likes: typeof m.likes?.total === 'number' ? m.likes.total : 0,
            followers: typeof m.user?.followers === 'number' ? m.user.followers : null,
          });
        }
        // Enough posts from before the cutoff, or nothing older to page to.
        if (posts.length >= MAX_POSTS || got.next === null) break;
        max = got.next;
      }
      if (posts.length === 0) {
        return unavailable('stocktwits', date, oldest ? `the public stream reaches back only to ${oldest}, after ${date}'s close` : 'no posts in the public stream');
      }
      return { available: true, source: 'stocktwits', as_of: date, data: posts.slice(0, MAX_POSTS) };
    },
  };
}

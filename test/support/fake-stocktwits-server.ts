import { createServer, type Server } from 'node:http';

export interface FakeTwit {
  id: number;
  body: string;
  created_at: string;
  sentiment?: 'Bullish' | 'Bearish';
  likes?: number;
}

export interface FakeStockTwitsOptions {
  /** Messages per symbol, any order; other symbols answer 404 as StockTwits does. */
  streams?: Record<string, FakeTwit[]>;
  /** Answer 200 with an HTML page (StockTwits' error pages do that). */
  html?: boolean;
  /** Answer 429 to everything. */
  rateLimited?: boolean;
}

const PAGE = 30;

/**
 * A local server speaking StockTwits' public symbol stream (GET /api/2/streams/symbol/:SYM.json): newest
 * first, 30 a page, `max` pages back to older messages, `cursor` telling whether there are more.
 */
export async function startFakeStockTwits(opts: FakeStockTwitsOptions = {}) {
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url!, 'http://localhost');
    requests.push(url.pathname + url.search);
    const json = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(body));
    if (opts.rateLimited) return json(429, { response: { status: 429 }, errors: [{ message: 'Rate limit exceeded. Client may not make more than 200 requests an hour.' }] });
    if (opts.html) return void res.writeHead(200, { 'content-type': 'text/html' }).end('<html><body>We will be right back</body></html>');
    const m = /^\/api\/2\/streams\/symbol\/([^/]+)\.json$/.exec(url.pathname);
    const symbol = m ? decodeURIComponent(m[1]!) : '';
    const all = opts.streams?.[symbol];
    if (!m || !all) return json(404, { response: { status: 404 }, errors: [{ message: 'Symbol not found' }] });
    const max = url.searchParams.get('max');
    const older = [...all].sort((a, b) => b.id - a.id).filter((t) => max === null || t.id < Number(max));
    const page = older.slice(0, PAGE);
    json(200, {
      response: { status: 200 },
      symbol: { id: 1, symbol, title: `${symbol} Inc`, aliases: [], is_following: false, watchlist_count: 1000 },
      cursor: { more: older.length > PAGE, since: page[0]?.id ?? null, max: page.at(-1)?.id ?? null },
      messages: page.map((t) => ({
        id: t.id,
        body: t.body,
        created_at: t.created_at,
        user: { id: 7, username: 'trader7', name: 'Trader', followers: 120, following: 10, ideas: 50 },
        source: { id: 1, title: 'StockTwits', url: 'https://stocktwits.com' },
        symbols: [{ id: 1, symbol, title: `${symbol} Inc` }],
        entities: { sentiment: t.sentiment ? { basic: t.sentiment } : null },
        likes: { total: t.likes ?? 0, user_ids: [] },
      })),
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const redirect: typeof fetch = (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    return fetch(url.replace(/^https:\/\/api\.stocktwits\.com/, base), init);
  };
  return { base, requests, fetch: redirect, close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))) };
}

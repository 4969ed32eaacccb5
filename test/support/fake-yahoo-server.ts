import { createServer, type Server } from 'node:http';

/**
 * A local server answering Yahoo Finance's chart (/v8/finance/chart/:symbol) and search
 * (/v1/finance/search) endpoints in their documented JSON shape, plus a `fetch` that sends the real
 * yahoo-finance2 client there instead of Yahoo's hosts.
 */
export async function startFakeYahoo(opts: { closes?: Record<string, number[]>; htmlFor?: string[] } = {}) {
  const hits: string[] = [];
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url!, 'http://localhost');
    hits.push(url.pathname);
    const chart = /^\/v8\/finance\/chart\/([^/]+)$/.exec(url.pathname);
    if (chart) {
      const symbol = decodeURIComponent(chart[1]!);
      if (opts.htmlFor?.includes(symbol)) {
        // Yahoo sometimes answers 200 with an HTML consent page.
        res.writeHead(200, { 'content-type': 'text/html' }).end('<html><body>consent</body></html>');
        return;
      }
      const closes = opts.closes?.[symbol];
      if (!closes) {
        res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ chart: { result: null, error: { code: 'Not Found', description: 'No data found, symbol may be delisted' } } }));
        return;
      }
      const p2 = Number(url.searchParams.get('period2') ?? Math.floor(Date.now() / 1000));
      const step = url.searchParams.get('interval') === '5m' ? 300 : 86_400;
      const timestamp = closes.map((_, i) => p2 - (closes.length - i) * step);
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          chart: {
            result: [
              {
                meta: { currency: 'USD', symbol, exchangeName: 'NMS', instrumentType: 'EQUITY', regularMarketPrice: closes.at(-1), regularMarketTime: p2, gmtoffset: -18000, timezone: 'EST', exchangeTimezoneName: 'America/New_York', dataGranularity: url.searchParams.get('interval') ?? '1d', range: '', validRanges: ['1d'] },
                timestamp,
                indicators: {
                  quote: [{ open: closes.map((c) => c * 0.99), high: closes.map((c) => c * 1.01), low: closes.map((c) => c * 0.98), close: closes, volume: closes.map(() => 1_000_000) }],
                  adjclose: [{ adjclose: closes }],
                },
              },
            ],
            error: null,
          },
        }),
      );
      return;
    }
    if (url.pathname === '/v1/finance/search') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({ explains: [], count: 1, quotes: [], news: [{ uuid: '1', title: `${url.searchParams.get('q')} rallies on earnings`, publisher: 'Wire', link: 'https://example.com/a', providerPublishTime: Math.floor(Date.now() / 1000), type: 'STORY' }], nav: [], lists: [], researchReports: [], totalTime: 1, timeTakes: {} }),
      );
      return;
    }
    res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ finance: { error: { code: 'Unauthorized', description: 'Invalid Crumb' } } }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const redirect: typeof fetch = (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    return fetch(url.replace(/^https:\/\/[a-z0-9.-]*yahoo\.com/, base), init);
  };
  return { base, hits, fetch: redirect, close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))) };
}

import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';

/**
 * A local server answering Alpaca's market-data REST endpoints in their JSON shape: v2 bars (with
 * `next_page_token` paging), v2 latest trade, v1beta1 news; 403 for a wrong key pair, 422 for an
 * invalid symbol, and an empty `bars` list for a well-formed symbol it has no data for.
 */
export async function startFakeAlpaca(opts: { keyId: string; secret: string; closes: Record<string, number[]>; pageSize?: number }) {
  const requests: Array<{ path: string; query: URLSearchParams; headers: IncomingHttpHeaders }> = [];
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url!, 'http://localhost');
    requests.push({ path: url.pathname, query: url.searchParams, headers: req.headers });
    const send = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8' }).end(JSON.stringify(body));
    if (req.headers['apca-api-key-id'] !== opts.keyId || req.headers['apca-api-secret-key'] !== opts.secret) return send(403, { message: 'forbidden' });
    const bars = /^\/v2\/stocks\/([^/]+)\/bars$/.exec(url.pathname);
    if (bars) {
      const symbol = decodeURIComponent(bars[1]!);
      if (!/^[A-Z.]{1,10}$/.test(symbol)) return send(422, { message: `invalid symbol: ${symbol}` });
      const closes = opts.closes[symbol] ?? [];
      const start = Date.parse(url.searchParams.get('start')!);
      const end = Date.parse(url.searchParams.get('end')!);
      const step = url.searchParams.get('timeframe') === '5Min' ? 300_000 : 86_400_000;
      // Bars laid out backwards from `end`, then cut to [start, end] like the real API.
      const all = closes
        .map((c, i) => ({ t: new Date(Math.floor((end - (closes.length - 1 - i) * step) / step) * step).toISOString(), o: c, h: c + 1, l: c - 1, c, v: 1000, n: 10, vw: c }))
        .filter((b) => Date.parse(b.t) >= start && Date.parse(b.t) <= end);
      const offset = Number(url.searchParams.get('page_token') ?? 0);
      const size = opts.pageSize ?? 10_000;
      const page = all.slice(offset, offset + size);
      return send(200, { bars: page.length ? page : null, symbol, next_page_token: offset + size < all.length ? String(offset + size) : null });
    }
    const trade = /^\/v2\/stocks\/([^/]+)\/trades\/latest$/.exec(url.pathname);
    if (trade) return send(200, { symbol: trade[1], trade: { t: '2026-11-20T20:59:59Z', x: 'V', p: opts.closes[trade[1]!]?.at(-1) ?? 0, s: 100, c: ['@'], i: 1, z: 'C' } });
    if (url.pathname === '/v1beta1/news') {
      return send(200, { news: [{ id: 1, headline: `${url.searchParams.get('symbols')} news`, author: 'x', source: 'benzinga', summary: '', created_at: '2026-11-20T12:00:00Z', updated_at: '2026-11-20T12:00:00Z', url: 'https://example.com', symbols: [url.searchParams.get('symbols')], images: [] }], next_page_token: null });
    }
    send(404, { message: 'not found' });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { baseUrl: `http://127.0.0.1:${(server.address() as { port: number }).port}`, requests, close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))) };
}

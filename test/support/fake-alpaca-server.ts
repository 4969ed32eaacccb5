import { createServer, type Server } from 'node:http';

/** A local server answering Alpaca's market-data REST endpoints (v2 bars, latest trade, v1beta1 news) in their JSON shape. */
export async function startFakeAlpaca(opts: { keyId: string; secret: string; closes: Record<string, number[]> }) {
  const requests: Array<{ path: string; headers: Record<string, string | string[] | undefined> }> = [];
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url!, 'http://localhost');
    requests.push({ path: url.pathname, headers: req.headers });
    const send = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (req.headers['apca-api-key-id'] !== opts.keyId || req.headers['apca-api-secret-key'] !== opts.secret) return send(403, { message: 'forbidden' });
    const bars = /^\/v2\/stocks\/([^/]+)\/bars$/.exec(url.pathname);
    if (bars) {
      const closes = opts.closes[decodeURIComponent(bars[1]!)];
      if (!closes) return send(422, { message: 'invalid symbol' });
      const end = Date.parse(url.searchParams.get('end')!);
      return send(200, { bars: closes.map((c, i) => ({ t: new Date(end - (closes.length - i) * 86_400_000).toISOString(), o: c, h: c + 1, l: c - 1, c, v: 1000, n: 10, vw: c })), symbol: bars[1], next_page_token: null });
    }
    const trade = /^\/v2\/stocks\/([^/]+)\/trades\/latest$/.exec(url.pathname);
    if (trade) return send(200, { symbol: trade[1], trade: { t: '2026-11-20T20:59:59Z', p: opts.closes[trade[1]!]?.at(-1) ?? 0, s: 100 } });
    if (url.pathname === '/v1beta1/news') return send(200, { news: [{ id: 1, headline: `${url.searchParams.get('symbols')} news`, source: 'benzinga', created_at: '2026-11-20T12:00:00Z', url: 'https://example.com' }], next_page_token: null });
    send(404, { message: 'not found' });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { baseUrl: `http://127.0.0.1:${(server.address() as { port: number }).port}`, requests, close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))) };
}

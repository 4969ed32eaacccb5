import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';

export interface FakeYahooOptions {
  /** Daily (and 5-minute) closes per symbol, oldest first; other symbols are unknown (404). */
  closes?: Record<string, number[]>;
  /** Symbols whose chart answers 200 with an HTML page (Yahoo's consent wall does that). */
  htmlFor?: string[];
  /** Symbols whose chart answers 200 with JSON of the wrong shape. */
  malformedFor?: string[];
  /** Serve quoteSummary fundamentals (otherwise 404 "Quote not found", as for many ETFs). */
  fundamentals?: boolean;
  /** quoteSummary `price` + `assetProfile` per symbol (the company's name, sector and industry). */
  profiles?: Record<string, { name: string; sector?: string; industry?: string }>;
  /** Headline feed items per symbol (/rss/2.0/headline?s=); other symbols get an empty channel. */
  news?: Record<string, Array<{ title: string; summary?: string; at: string; publisher?: string }>>;
  /** Quarterly statements per symbol for fundamentals-timeseries: period end and values by field (totalRevenue …). */
  statements?: Record<string, Array<{ end: string; values: Record<string, number> }>>;
}

const xmlEscape = (s: string) => s.replace(/[&<>]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c]!);

const tradingPeriod = (start: number, end: number) => ({ timezone: 'EST', start, end, gmtoffset: -18000 });

/**
 * A local server speaking Yahoo Finance's JSON as the `yahoo-finance2` client expects it (and as its
 * result schemas validate): the cookie/crumb handshake (finance.yahoo.com page → /v1/test/getcrumb),
 * /v8/finance/chart/:symbol, /v7/finance/quote, /v10/finance/quoteSummary/:symbol and
 * /v1/finance/search. `fetch` sends the real client here instead of Yahoo's hosts.
 */
export async function startFakeYahoo(opts: FakeYahooOptions = {}) {
  const hits: string[] = [];
  const requests: Array<{ path: string; query: URLSearchParams; headers: IncomingHttpHeaders }> = [];
  const crumb = 'fAkEcRuMb';
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url!, 'http://localhost');
    hits.push(url.pathname);
    requests.push({ path: url.pathname, query: url.searchParams, headers: req.headers });
    const json = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json;charset=utf-8' }).end(JSON.stringify(body));
    const closesOf = (symbol: string) => opts.closes?.[symbol];

    if (url.pathname.startsWith('/quote/')) {
      // The page the client loads first, only for its cookie.
      res.writeHead(200, { 'content-type': 'text/html', 'set-cookie': 'A3=d=AQABBFake&S=AQAAAFake; Max-Age=31557600; Domain=.yahoo.com; Path=/; Secure; HttpOnly; SameSite=None' }).end('<html></html>');
      return;
    }
    if (url.pathname === '/v1/test/getcrumb') {
      if (!String(req.headers.cookie ?? '').includes('A3=')) return void res.writeHead(403, { 'content-type': 'text/plain' }).end('');
      res.writeHead(200, { 'content-type': 'text/plain' }).end(crumb);
      return;
    }
    const needsCrumb = url.pathname.startsWith('/v7/') || url.pathname.startsWith('/v10/');
    if (needsCrumb && url.searchParams.get('crumb') !== crumb) {
      return json(401, { finance: { result: null, error: { code: 'Unauthorized', description: 'Invalid Crumb' } } });
    }

    const chart = /^\/v8\/finance\/chart\/([^/]+)$/.exec(url.pathname);
    if (chart) {
      const symbol = decodeURIComponent(chart[1]!);
      if (opts.htmlFor?.includes(symbol)) return void res.writeHead(200, { 'content-type': 'text/html' }).end('<html><body>consent</body></html>');
      if (opts.malformedFor?.includes(symbol)) return json(200, { chart: { result: [{ meta: { symbol }, indicators: { quote: [{ close: 'n/a' }] }, timestamp: 'soon' }], error: null } });
      const closes = closesOf(symbol);
      if (!closes) return json(404, { chart: { result: null, error: { code: 'Not Found', description: 'No data found, symbol may be delisted' } } });
      const p2 = Number(url.searchParams.get('period2') ?? Math.floor(Date.now() / 1000));
      const step = url.searchParams.get('interval') === '5m' ? 300 : 86_400;
      const timestamp = closes.map((_, i) => p2 - (closes.length - i) * step);
      return json(200, {
        chart: {
          result: [
            {
              meta: {
                currency: 'USD', symbol, exchangeName: 'PCX', fullExchangeName: 'NYSEArca', instrumentType: 'ETF', firstTradeDate: 728317800,
                regularMarketTime: p2, hasPrePostMarketData: true, gmtoffset: -18000, timezone: 'EST', exchangeTimezoneName: 'America/New_York',
                regularMarketPrice: closes.at(-1), chartPreviousClose: closes[0], priceHint: 2,
                currentTradingPeriod: { pre: tradingPeriod(p2 - 20_000, p2 - 14_400), regular: tradingPeriod(p2 - 14_400, p2 + 9_000), post: tradingPeriod(p2 + 9_000, p2 + 23_400) },
                dataGranularity: url.searchParams.get('interval') ?? '1d', range: '', validRanges: ['1d', '5d', '1mo', '3mo', '6mo', '1y', '2y', '5y', '10y', 'ytd', 'max'],
              },
              timestamp,
              indicators: {
                quote: [{ open: closes.map((c) => c * 0.99), high: closes.map((c) => c * 1.01), low: closes.map((c) => c * 0.98), close: closes, volume: closes.map(() => 1_000_000) }],
                adjclose: [{ adjclose: closes }],
              },
            },
          ],
          error: null,
        },
      });
    }
    if (url.pathname === '/v7/finance/quote') {
      const symbols = (url.searchParams.get('symbols') ?? '').split(',').filter((s) => closesOf(s));
      const now = Math.floor(Date.now() / 1000);
      return json(200, {
        quoteResponse: {
          result: symbols.map((symbol) => ({
            language: 'en-US', region: 'US', quoteType: 'EQUITY', typeDisp: 'Equity', quoteSourceName: 'Nasdaq Real Time Price', triggerable: true,
            currency: 'USD', marketState: 'REGULAR', tradeable: false, exchange: 'NMS', exchangeTimezoneName: 'America/New_York',
            exchangeTimezoneShortName: 'EST', gmtOffSetMilliseconds: -18_000_000, market: 'us_market', esgPopulated: false, sourceInterval: 15,
            exchangeDataDelayedBy: 0, fullExchangeName: 'NasdaqGS', symbol, regularMarketPrice: closesOf(symbol)!.at(-1), regularMarketTime: now,
          })),
          error: null,
        },
      });
    }
    if (url.pathname === '/rss/2.0/headline') {
      const symbol = url.searchParams.get('s') ?? '';
      const items = (opts.news?.[symbol] ?? [])
        .map((n, i) => `<item><title>${xmlEscape(n.title)}</title><link>https://finance.example.com/${i}</link>${n.summary !== undefined ? `<description>${xmlEscape(n.summary)}</description>` : ''}${n.publisher ? `<source url="https://example.com">${xmlEscape(n.publisher)}</source>` : ''}<guid isPermaLink="false">${symbol}-${i}</guid><pubDate>${new Date(n.at).toUTCString()}</pubDate></item>`)
        .join('');
      res.writeHead(200, { 'content-type': 'application/rss+xml;charset=utf-8' }).end(`<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Yahoo! Finance: ${xmlEscape(symbol)} News</title><link>https://finance.yahoo.com/q/h?s=${symbol}</link><description>Latest Financial News for ${xmlEscape(symbol)}</description>${items}</channel></rss>`);
      return;
    }
    const series = /^\/ws\/fundamentals-timeseries\/v1\/finance\/timeseries\/([^/]+)$/.exec(url.pathname);
    if (series) {
      const symbol = decodeURIComponent(series[1]!);
      const p1 = Number(url.searchParams.get('period1'));
      const p2 = Number(url.searchParams.get('period2'));
      const rows = (opts.statements?.[symbol] ?? []).filter((r) => {
        const t = Date.parse(`${r.end}T00:00:00Z`) / 1000;
        return t >= p1 && t <= p2;
      });
      const types = (url.searchParams.get('type') ?? '').split(',').filter(Boolean);
      const result = types.map((type) => {
        const field = type.replace(/^(quarterly|annual|trailing)/, '');
        const key = field[0]!.toLowerCase() + field.slice(1);
        const have = rows.filter((r) => r.values[key] !== undefined);
        if (have.length === 0) return { meta: { symbol: [symbol], type: [type] } };
        // The client reads each series from the third key of its object: meta, timestamp, then the data.
        return {
          meta: { symbol: [symbol], type: [type] },
          timestamp: have.map((r) => Date.parse(`${r.end}T00:00:00Z`) / 1000),
          [type]: have.map((r) => ({ dataId: 20_100, asOfDate: r.end, periodType: '3M', currencyCode: 'USD', reportedValue: { raw: r.values[key], fmt: String(r.values[key]) } })),
        };
      });
      return json(200, { timeseries: { result, error: null } });
    }
    const summary = /^\/v10\/finance\/quoteSummary\/([^/]+)$/.exec(url.pathname);
    if (summary) {
      const symbol = decodeURIComponent(summary[1]!);
      const modules = (url.searchParams.get('modules') ?? '').split(',');
      const profile = opts.profiles?.[symbol];
      if (modules.includes('assetProfile') || modules.includes('price')) {
        if (!profile) return json(404, { quoteSummary: { result: null, error: { code: 'Not Found', description: `Quote not found for symbol: ${symbol}` } } });
        return json(200, {
          quoteSummary: {
            result: [
              {
                assetProfile: { maxAge: 86400, sector: profile.sector, industry: profile.industry, country: 'United States', fullTimeEmployees: 1000 },
                price: { maxAge: 1, symbol, longName: profile.name, shortName: profile.name.slice(0, 20), currency: 'USD', quoteType: 'EQUITY', exchangeName: 'NasdaqGS', marketState: 'REGULAR', priceHint: 2 },
              },
            ],
            error: null,
          },
        });
      }
      if (!opts.fundamentals || !closesOf(symbol)) return json(404, { quoteSummary: { result: null, error: { code: 'Not Found', description: `Quote not found for symbol: ${symbol}` } } });
      return json(200, {
        quoteSummary: {
          result: [
            {
              summaryDetail: { maxAge: 1, priceHint: 2, currency: 'USD', algorithm: null, tradeable: false, fromCurrency: null, lastMarket: null, marketCap: 3_400_000_000_000, trailingPE: 31.2, forwardPE: 27.5, dividendYield: 0.0045, beta: 1.2 },
              defaultKeyStatistics: { maxAge: 1, priceHint: 2, category: null, fundFamily: null, legalType: null, lastSplitFactor: '4:1', pegRatio: 2.1 },
              financialData: { maxAge: 86400, recommendationKey: 'buy', financialCurrency: 'USD', profitMargins: 0.24, revenueGrowth: 0.06, debtToEquity: 150.1 },
            },
          ],
          error: null,
        },
      });
    }
    if (url.pathname === '/v1/finance/search') {
      const q = url.searchParams.get('q');
      return json(200, {
        explains: [], count: 1, quotes: [],
        news: [{ uuid: '1', title: `${q} rallies on earnings`, publisher: 'Wire', link: 'https://example.com/a', providerPublishTime: Math.floor(Date.now() / 1000), type: 'STORY' }],
        nav: [], lists: [], researchReports: [], totalTime: 1, timeTakenForQuotes: 1, timeTakenForNews: 1, timeTakenForAlgowatchlist: 1,
        timeTakenForPredefinedScreener: 1, timeTakenForCrunchbase: 0, timeTakenForNav: 1, timeTakenForResearchReports: 0,
        timeTakenForScreenerField: 0, timeTakenForCulturalAssets: 0, timeTakenForSearchLists: 0,
      });
    }
    json(404, { finance: { result: null, error: { code: 'Not Found', description: 'HTTP 404 Not Found' } } });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const redirect: typeof fetch = (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    return fetch(url.replace(/^https:\/\/[a-z0-9.-]*yahoo\.com/, base), init);
  };
  return { base, hits, requests, fetch: redirect, close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))) };
}

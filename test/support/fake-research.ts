import { startFakeStockTwits } from './fake-stocktwits-server.ts';
import { startFakeYahoo } from './fake-yahoo-server.ts';

/**
 * Yahoo (headline feed, statements, company profile) and StockTwits fakes with a week of NVDA research
 * up to 2026-11-20, and one `fetch` that sends each client to its fake.
 */
export async function startFakeResearch(opts: { social?: 'ok' | 'rate-limited' } = {}) {
  const yahoo = await startFakeYahoo({
    closes: { NVDA: [100, 101] },
    fundamentals: true,
    profiles: { NVDA: { name: 'NVIDIA Corporation', sector: 'Technology', industry: 'Semiconductors' } },
    news: {
      NVDA: [
        { title: 'NVIDIA books record data-centre orders', summary: 'Hyperscalers lift capex plans again.', at: '2026-11-19T13:30:00Z', publisher: 'Wire' },
        { title: 'Export rules for AI chips tighten', summary: 'New licences needed for some markets.', at: '2026-11-17T16:00:00Z' },
      ],
      '^GSPC': [{ title: 'Stocks edge higher before payrolls', summary: 'S&P 500 near its high.', at: '2026-11-19T21:30:00Z' }],
    },
    statements: {
      NVDA: [
        { end: '2026-07-31', values: { totalRevenue: 55e9, grossProfit: 40e9, netIncome: 27e9, totalAssets: 190e9, stockholdersEquity: 120e9, operatingCashFlow: 25e9, freeCashFlow: 22e9 } },
        { end: '2026-04-30', values: { totalRevenue: 50e9, grossProfit: 37e9, netIncome: 24e9, totalAssets: 180e9, stockholdersEquity: 110e9, operatingCashFlow: 23e9, freeCashFlow: 20e9 } },
      ],
    },
  });
  const twits = await startFakeStockTwits(
    opts.social === 'rate-limited'
      ? { rateLimited: true }
      : {
          streams: {
            NVDA: [
              { id: 11, body: 'Loading more $NVDA before earnings', created_at: '2026-11-20T15:00:00Z', sentiment: 'Bullish', likes: 12 },
              { id: 10, body: '$NVDA looks extended here', created_at: '2026-11-19T18:00:00Z', sentiment: 'Bearish', likes: 3 },
            ],
          },
        },
  );
  const route: typeof fetch = (input, init) => (String(input instanceof Request ? input.url : input).includes('stocktwits') ? twits.fetch(input, init) : yahoo.fetch(input, init));
  return { yahoo, twits, fetch: route, close: async () => void (await Promise.all([yahoo.close(), twits.close()])) };
}

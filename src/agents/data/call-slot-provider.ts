import type { MarketDataProvider } from './market-data-provider.ts';

/**
 * Waits for a slot of the queue's outbound-call rate limit before each request to a real source.
 * Sits under the cache, so cache hits spend no slot.
 */
export function withCallSlots(provider: MarketDataProvider, acquire: () => Promise<void>): MarketDataProvider {
  return {
    get name() {
      return provider.name;
    },
    getDailyBars: async (t, o) => (await acquire(), provider.getDailyBars(t, o)),
    getIntradayBars: async (t, o) => (await acquire(), provider.getIntradayBars(t, o)),
    getQuote: async (t, o) => (await acquire(), provider.getQuote(t, o)),
    getFundamentals: async (t, o) => (await acquire(), provider.getFundamentals(t, o)),
    getNews: async (t, o) => (await acquire(), provider.getNews(t, o)),
  };
}

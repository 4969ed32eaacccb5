import type { Config, Logger } from '../../core/index.ts';
import { createAlpacaProvider } from './alpaca-provider.ts';
import { DataSourceUnavailableError, type MarketDataProvider } from './market-data-provider.ts';
import { createSimulatedProvider } from './simulated-provider.ts';
import { createYahooProvider } from './yahoo-provider.ts';

/** How long `auto` keeps using simulated data after the real source failed, before trying it again. */
const RETRY_REAL_AFTER_MS = 5 * 60_000;
let realDownUntil = 0;

export interface ProviderOverrides {
  fetch?: typeof fetch;
}

/**
 * MARKET_DATA: `yahoo`, `alpaca` or `simulated` as asked; `auto` tries Yahoo and falls back to
 * simulated data with a warning when it is unreachable (remembered for a few minutes, so each cycle
 * does not wait for time-outs again).
 */
export function createMarketDataProvider(config: Config, logger: Logger, overrides: ProviderOverrides = {}): MarketDataProvider {
  const simulated = createSimulatedProvider();
  if (config.MARKET_DATA === 'simulated') return simulated;
  if (config.MARKET_DATA === 'alpaca') {
    if (!config.ALPACA_API_KEY_ID || !config.ALPACA_API_SECRET_KEY) throw new Error('MARKET_DATA=alpaca needs ALPACA_API_KEY_ID and ALPACA_API_SECRET_KEY');
    return createAlpacaProvider({ keyId: config.ALPACA_API_KEY_ID, secretKey: config.ALPACA_API_SECRET_KEY, baseUrl: config.ALPACA_DATA_URL, fetch: overrides.fetch });
  }
  const yahoo = createYahooProvider({ fetch: overrides.fetch, timeoutMs: config.MARKET_DATA === 'auto' ? 4_000 : 8_000 });
  if (config.MARKET_DATA === 'yahoo') return yahoo;
  // auto: every call goes to Yahoo unless it recently failed; a failure switches the rest of the cycle to simulated.
  let useSimulated = false;
  const pick = async <T>(call: (p: MarketDataProvider) => Promise<T>): Promise<T> => {
    if (useSimulated || Date.now() < realDownUntil) {
      useSimulated = true;
      return call(simulated);
    }
    try {
      return await call(yahoo);
    } catch (err) {
      if (!(err instanceof DataSourceUnavailableError)) throw err;
      realDownUntil = Date.now() + RETRY_REAL_AFTER_MS;
      useSimulated = true;
      logger.warn({ err: err.message }, 'market data: Yahoo unreachable, using SIMULATED data');
      return call(simulated);
    }
  };
  return {
    get name() {
      return useSimulated || Date.now() < realDownUntil ? 'simulated' : 'yahoo';
    },
    getDailyBars: (t, o) => pick((p) => p.getDailyBars(t, o)),
    getIntradayBars: (t, o) => pick((p) => p.getIntradayBars(t, o)),
    getQuote: (t, o) => pick((p) => p.getQuote(t, o)),
    getFundamentals: (t, o) => pick((p) => p.getFundamentals(t, o)),
    getNews: (t, o) => pick((p) => p.getNews(t, o)),
  };
}

/** Forgets a remembered outage (tests). */
export function resetMarketDataFallback(): void {
  realDownUntil = 0;
}

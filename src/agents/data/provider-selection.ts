import type { Redis } from 'ioredis';
import { productKeys, type Config, type Logger } from '../../core/index.ts';
import { createAlpacaProvider } from './alpaca-provider.ts';
import { withRedisCache } from './cached-provider.ts';
import { withCallSlots } from './call-slot-provider.ts';
import { DataSourceUnavailableError, type MarketDataProvider } from './market-data-provider.ts';
import { createSimulatedProvider } from './simulated-provider.ts';
import { createYahooProvider } from './yahoo-provider.ts';

/** How long `auto` keeps using simulated data after Yahoo failed, before trying it again. */
export const OUTAGE_MEMORY_MS = 5 * 60_000;
/** Time-out per request: short in `auto`, where a fallback is waiting. */
const AUTO_TIMEOUT_MS = 4_000;
const DIRECT_TIMEOUT_MS = 8_000;

let outageUntil = 0; // this process's memory; Redis shares it with the other workers

export interface MarketDataOptions {
  /** For the shared cache and the remembered outage. Without it nothing is cached. */
  redis?: Redis;
  /** Replaces global fetch for Yahoo and Alpaca (tests point it at a local server). */
  fetch?: typeof fetch;
  /** The worker's outbound-call rate limit, awaited before each real request (not for cache hits). */
  acquireCallSlot?: () => Promise<void>;
  now?: () => Date;
}

/**
 * The provider chosen by MARKET_DATA: `yahoo`, `alpaca` or `simulated` as asked; `auto` tries Yahoo
 * and falls back to simulated data with a warning when it is unreachable. The outage is remembered
 * for a few minutes (in Redis, so every worker process knows), so cycles do not wait for time-outs
 * again. Make one per cycle: once a source has answered, the cycle sticks to it, so real bars are
 * never mixed with a simulated price.
 */
export function createMarketDataProvider(config: Config, logger: Logger, opts: MarketDataOptions = {}): MarketDataProvider {
  const keys = productKeys(config.QUEUE_PREFIX);
  const simulated = createSimulatedProvider({ now: opts.now });
  const real = (p: MarketDataProvider) => {
    const slotted = opts.acquireCallSlot ? withCallSlots(p, opts.acquireCallSlot) : p;
    return opts.redis ? withRedisCache(slotted, opts.redis, keys) : slotted;
  };
  if (config.MARKET_DATA === 'simulated') return simulated;
  if (config.MARKET_DATA === 'alpaca') {
    if (!config.ALPACA_API_KEY_ID || !config.ALPACA_API_SECRET_KEY) throw new Error('MARKET_DATA=alpaca needs ALPACA_API_KEY_ID and ALPACA_API_SECRET_KEY');
    return real(createAlpacaProvider({ keyId: config.ALPACA_API_KEY_ID, secretKey: config.ALPACA_API_SECRET_KEY, baseUrl: config.ALPACA_DATA_URL, fetch: opts.fetch, timeoutMs: DIRECT_TIMEOUT_MS }));
  }
  const auto = config.MARKET_DATA === 'auto';
  const yahoo = real(createYahooProvider({ fetch: opts.fetch, now: opts.now, timeoutMs: auto ? AUTO_TIMEOUT_MS : DIRECT_TIMEOUT_MS }));
  if (!auto) return yahoo;

  const outageKey = keys.custom('cache', 'yahoo', 'outage');
  const isDown = async () => {
    if (Date.now() < outageUntil) return true;
    const left = opts.redis ? await opts.redis.pttl(outageKey) : -2;
    if (left > 0) outageUntil = Date.now() + left;
    return left > 0;
  };
  const markDown = async (reason: string) => {
    outageUntil = Date.now() + OUTAGE_MEMORY_MS;
    await opts.redis?.set(outageKey, reason.slice(0, 300), 'PX', OUTAGE_MEMORY_MS);
  };

  let chosen: MarketDataProvider | null = null;
  const pick = async <T>(signal: AbortSignal | undefined, call: (p: MarketDataProvider) => Promise<T>): Promise<T> => {
    if (chosen) return call(chosen);
    if (await isDown()) {
      chosen = simulated;
      return call(simulated);
    }
    try {
      const value = await call(yahoo);
      chosen = yahoo;
      return value;
    } catch (err) {
      if (!(err instanceof DataSourceUnavailableError) || signal?.aborted) throw err;
      await markDown(err.message);
      logger.warn({ err: err.message, retry_in_s: OUTAGE_MEMORY_MS / 1000 }, 'market data: Yahoo unavailable, using SIMULATED data');
      chosen = simulated;
      return call(simulated);
    }
  };
  return {
    get name() {
      return chosen?.name ?? yahoo.name;
    },
    getDailyBars: (t, o) => pick(o.signal, (p) => p.getDailyBars(t, o)),
    getIntradayBars: (t, o) => pick(o.signal, (p) => p.getIntradayBars(t, o)),
    getQuote: (t, o) => pick(o.signal, (p) => p.getQuote(t, o)),
    getFundamentals: (t, o) => pick(o.signal, (p) => p.getFundamentals(t, o)),
    getNews: (t, o) => pick(o.signal, (p) => p.getNews(t, o)),
  };
}

/** Forgets this process's memory of an outage (tests). */
export function resetMarketDataFallback(): void {
  outageUntil = 0;
}

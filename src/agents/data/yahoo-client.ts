import YahooFinance from 'yahoo-finance2';

/** Yahoo rate-limits non-browser clients: look like a browser. */
const BROWSER_UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36';
/** yahoo-finance2 prints a "requires Node 22" notice and survey hints through its logger; it works on Node 20. */
const quietLogger = { info() {}, warn() {}, error() {}, debug() {}, dir() {} };

export const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

export interface YahooClient {
  yf: InstanceType<typeof YahooFinance>;
  /** Per-request options: the caller's abort, a timeout, the browser UA, and no schema validation (we check fields ourselves). */
  moduleOptions: (signal?: AbortSignal) => never;
}

/** One configured `yahoo-finance2` client; `fetch` is injectable so tests point it at a local server. */
export function createYahooClient(opts: { fetch?: typeof fetch; timeoutMs?: number }): YahooClient {
  const yf = new YahooFinance({
    logger: quietLogger,
    suppressNotices: ['yahooSurvey', 'ripHistorical'],
    ...(opts.fetch ? { fetch: opts.fetch } : {}),
    fetchOptions: { headers: { 'User-Agent': BROWSER_UA } },
  } as ConstructorParameters<typeof YahooFinance>[0]);
  const timeoutMs = opts.timeoutMs ?? 8_000;
  const moduleOptions = (signal?: AbortSignal) => {
    const timeout = AbortSignal.timeout(timeoutMs);
    return { fetchOptions: { signal: signal ? AbortSignal.any([signal, timeout]) : timeout, headers: { 'User-Agent': BROWSER_UA } }, validateResult: false } as never;
  };
  return { yf, moduleOptions };
}

export type QuoteSummary = Record<string, Record<string, unknown> | undefined>;

/** The quoteSummary modules `valuationRatios` reads. */
export const RATIO_MODULES = ['summaryDetail', 'defaultKeyStatistics', 'financialData'];

/** Today's valuation ratios from a quoteSummary answer; null when it has none (ETFs, indices). */
export function valuationRatios(s: QuoteSummary, extra: Record<string, [module: string, key: string]> = {}): Record<string, number | string | null> | null {
  const pick = (mod: string, key: string) => {
    const v = s[mod]?.[key];
    return finite(v) || typeof v === 'string' ? v : null;
  };
  const fields: Record<string, [string, string]> = {
    market_cap: ['summaryDetail', 'marketCap'],
    trailing_pe: ['summaryDetail', 'trailingPE'],
    forward_pe: ['summaryDetail', 'forwardPE'],
    dividend_yield: ['summaryDetail', 'dividendYield'],
    beta: ['summaryDetail', 'beta'],
    peg_ratio: ['defaultKeyStatistics', 'pegRatio'],
    profit_margins: ['financialData', 'profitMargins'],
    revenue_growth: ['financialData', 'revenueGrowth'],
    debt_to_equity: ['financialData', 'debtToEquity'],
    ...extra,
  };
  const out = Object.fromEntries(Object.entries(fields).map(([name, [mod, key]]) => [name, pick(mod, key)]));
  return Object.values(out).some((v) => v !== null) ? out : null;
}

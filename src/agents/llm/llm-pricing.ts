import { isIP } from 'node:net';
import type { Config } from '../../core/index.ts';
import { canonicalModel } from './model-capabilities.ts';

/** USD per million tokens, input and output. */
export type PriceTable = Record<string, { input: number; output: number }>;

/**
 * OpenAI's public list prices (standard tier, uncached input), USD per million tokens, as published on
 * openai.com/api/pricing — checked 2025-12. Keyed by the bare model name, so a model costs the same
 * wherever it is served (a proxy's `openai/gpt-5` is gpt-5). LLM_PRICES overrides or adds entries.
 */
export const DEFAULT_PRICES: PriceTable = {
  'gpt-5.2': { input: 1.75, output: 14 },
  'gpt-5.1': { input: 1.25, output: 10 },
  'gpt-5.1-codex': { input: 1.25, output: 10 },
  'gpt-5.1-codex-mini': { input: 0.25, output: 2 },
  'gpt-5': { input: 1.25, output: 10 },
  'gpt-5-chat-latest': { input: 1.25, output: 10 },
  'gpt-5-mini': { input: 0.25, output: 2 },
  'gpt-5-nano': { input: 0.05, output: 0.4 },
  'gpt-5-pro': { input: 15, output: 120 },
  'gpt-4o': { input: 2.5, output: 10 },
  'gpt-4o-mini': { input: 0.15, output: 0.6 },
  'gpt-4.1': { input: 2, output: 8 },
  'gpt-4.1-mini': { input: 0.4, output: 1.6 },
  'gpt-4.1-nano': { input: 0.1, output: 0.4 },
  'gpt-4-turbo': { input: 10, output: 30 },
  'gpt-3.5-turbo': { input: 0.5, output: 1.5 },
  'o1': { input: 15, output: 60 },
  'o1-mini': { input: 1.1, output: 4.4 },
  'o1-pro': { input: 150, output: 600 },
  'o3': { input: 2, output: 8 },
  'o3-mini': { input: 1.1, output: 4.4 },
  'o3-pro': { input: 20, output: 80 },
  'o4-mini': { input: 1.1, output: 4.4 },
};

export interface CallPrice {
  cost_usd: number;
  /** A hosted model with no price: its cost is not known (counted as 0 in sums, never claimed as free). */
  cost_unknown: boolean;
}

/**
 * A server on this machine or the local network (Ollama, llama.cpp, vLLM …): models it serves that the
 * table does not know cost nothing. Anything else is a hosted service whose unknown models have a price
 * we cannot tell.
 */
export function isLocalServer(baseURL: string | undefined): boolean {
  if (!baseURL) return false;
  let url: URL;
  try {
    url = new URL(baseURL);
  } catch {
    return false;
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (host === 'localhost' || host.endsWith('.local') || host.endsWith('.internal') || host === 'host.docker.internal') return true;
  if (url.port === '11434') return true; // Ollama's port, wherever it runs
  if (isIP(host) === 4) return /^(127\.|10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.|169\.254\.)/.test(host);
  if (isIP(host) === 6) return host === '::1' || /^f[cd]/i.test(host) || /^fe80:/i.test(host);
  return false;
}

/** True when the table prices this model (by its name or its canonical family name). */
export function hasPrice(prices: PriceTable, model: string): boolean {
  return (prices[model] ?? prices[canonicalModel(model)]) !== undefined;
}

export function priceCall(prices: PriceTable, model: string, promptTokens: number, completionTokens: number, opts: { local: boolean }): CallPrice {
  const p = prices[model] ?? prices[canonicalModel(model)];
  if (!p) return { cost_usd: 0, cost_unknown: !opts.local };
  return { cost_usd: Math.round(((promptTokens * p.input + completionTokens * p.output) / 1_000_000) * 1e9) / 1e9, cost_unknown: false };
}

/** The cost of one call, 0 when the model has no price (see priceCall for telling free from unknown). */
export function callCost(prices: PriceTable, model: string, promptTokens: number, completionTokens: number): number {
  return priceCall(prices, model, promptTokens, completionTokens, { local: true }).cost_usd;
}

/** LLM_PRICES: JSON such as {"my-model":{"input":1,"output":2}} (USD per million tokens), merged over the defaults. */
export function parsePriceOverrides(json: string | undefined): PriceTable {
  if (!json) return {};
  const parsed = JSON.parse(json) as PriceTable;
  for (const [model, p] of Object.entries(parsed)) {
    if (typeof p?.input !== 'number' || typeof p?.output !== 'number') throw new Error(`LLM_PRICES: "${model}" needs numeric input and output prices`);
  }
  return Object.fromEntries(Object.entries(parsed).flatMap(([model, p]) => [[model, p], [canonicalModel(model), p]]));
}

/** How this install prices its calls: the built-in table under LLM_PRICES, and whether the server is local. */
export interface Pricing {
  prices: PriceTable;
  local: boolean;
}

export function pricingOf(config: Pick<Config, 'LLM_PRICES' | 'OPENAI_BASE_URL'>): Pricing {
  // No base URL means api.openai.com: hosted.
  return { prices: { ...DEFAULT_PRICES, ...parsePriceOverrides(config.LLM_PRICES) }, local: isLocalServer(config.OPENAI_BASE_URL) };
}

/** True when this model's calls would have no known cost: a hosted server, and no price for it. */
export function lacksPrice(pricing: Pricing, model: string): boolean {
  return priceCall(pricing.prices, model, 0, 0, { local: pricing.local }).cost_unknown;
}

/** USD per million tokens, input and output. Local servers and unknown models cost 0. */
export type PriceTable = Record<string, { input: number; output: number }>;

export const DEFAULT_PRICES: PriceTable = {
  'gpt-4o': { input: 2.5, output: 10 },
  'gpt-4o-mini': { input: 0.15, output: 0.6 },
  'gpt-4.1': { input: 2, output: 8 },
  'gpt-4.1-mini': { input: 0.4, output: 1.6 },
  'gpt-4.1-nano': { input: 0.1, output: 0.4 },
  'o4-mini': { input: 1.1, output: 4.4 },
  'o3': { input: 2, output: 8 },
};

/** Models missing from the table (llama3, qwen … on a local server) cost 0. */
export function callCost(prices: PriceTable, model: string, promptTokens: number, completionTokens: number): number {
  const p = prices[model] ?? prices[model.replace(/-\d{4}-\d{2}-\d{2}$/, '')];
  if (!p) return 0;
  return (promptTokens * p.input + completionTokens * p.output) / 1_000_000;
}

/** LLM_PRICES: JSON such as {"my-model":{"input":1,"output":2}} (USD per million tokens), merged over the defaults. */
export function parsePriceOverrides(json: string | undefined): PriceTable {
  if (!json) return {};
  const parsed = JSON.parse(json) as PriceTable;
  for (const [model, p] of Object.entries(parsed)) {
    if (typeof p?.input !== 'number' || typeof p?.output !== 'number') throw new Error(`LLM_PRICES: "${model}" needs numeric input and output prices`);
  }
  return parsed;
}

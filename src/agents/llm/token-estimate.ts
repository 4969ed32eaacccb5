/**
 * A count of the tokens of a call whose server reported none (`usage: null`, or no usage at all), for the
 * token budget only: it is never shown as the call's usage nor priced, so results keep `usage_unknown` and
 * `cost_unknown`. It exists so that `max_tokens_per_cycle` still stops a cycle on such a server.
 *
 * It errs high, on purpose. Measured with OpenAI's tokenizers (o200k, cl100k) on this desk's prompts, prose
 * runs about 3.6–4.5 UTF-8 bytes per token and the densest text (bar tables, JSON of figures) about 1.85;
 * tokenizers of local models that split every digit (Qwen, Llama 2) spend one token per digit. Counting one
 * token per digit and one per 1.5 other bytes therefore gives more tokens than either family spends on any
 * of our prompts or answers (1.3× on a bare list of prices, 2.5–3× on prose); non-Latin text, 2–4 bytes a
 * character, is counted heavier still. Each message adds its chat framing (4 tokens), each request 3.
 */
const BYTES_PER_TOKEN = 1.5;
const PER_MESSAGE = 4;
const PER_REQUEST = 3;

export function estimateTextTokens(text: string): number {
  const digits = text.match(/\d/g)?.length ?? 0;
  return digits + Math.ceil((Buffer.byteLength(text, 'utf8') - digits) / BYTES_PER_TOKEN);
}

export interface EstimatedRequest {
  messages: ReadonlyArray<{ content?: unknown }>;
  response_format?: unknown;
  max_completion_tokens?: number;
}

/**
 * The prompt (every message and the JSON schema asked for) and the answer. A reasoning model's hidden
 * reasoning is billed as completion but is not in the answer: its completion is counted at the cap it was
 * sent (`max_completion_tokens`), the most that call could have billed.
 */
export function estimateCallTokens(req: EstimatedRequest, answer: string, opts: { reasoning: boolean }): number {
  const text = (c: unknown) => (typeof c === 'string' ? c : c === undefined || c === null ? '' : JSON.stringify(c));
  const prompt = PER_REQUEST + req.messages.reduce((n, m) => n + PER_MESSAGE + estimateTextTokens(text(m.content)), 0) + (req.response_format ? estimateTextTokens(text(req.response_format)) : 0);
  const completion = opts.reasoning && req.max_completion_tokens ? Math.max(req.max_completion_tokens, estimateTextTokens(answer)) : estimateTextTokens(answer);
  return prompt + completion;
}

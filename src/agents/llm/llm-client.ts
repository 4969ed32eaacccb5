import { setMaxListeners } from 'node:events';
import OpenAI, { APIConnectionError, APIError } from 'openai';
import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import type { z } from 'zod';
import { CycleAbortedError, incrementCounter, LlmRefusalError, LlmRequestRejectedError, productKeys, type Config, type LlmCall, type Usage } from '../../core/index.ts';
import type { CycleContext } from '../cycle-context.ts';
import { hasPrice, priceCall, type PriceTable } from './llm-pricing.ts';
import { capabilitiesOf, effortFor, type ReasoningEffort } from './model-capabilities.ts';
import { retryDelayMs } from './retry-delay.ts';
import { estimateCallTokens } from './token-estimate.ts';

export function createOpenAIClient(config: Pick<Config, 'OPENAI_API_KEY' | 'OPENAI_BASE_URL'>): OpenAI {
  return new OpenAI({
    // Ollama and most local servers ignore the key, but the SDK requires one.
    apiKey: config.OPENAI_API_KEY ?? 'local',
    baseURL: config.OPENAI_BASE_URL,
    // We retry ourselves, so a retry is logged, counted against the budget and stops on abort.
    maxRetries: 0,
    timeout: 120_000,
  });
}

export class TokenBudgetExceededError extends Error {
  override name = 'TokenBudgetExceededError';
  constructor(
    /** Tokens counted against the budget: those reported, plus the estimate for calls reported without usage. */
    public readonly used: number,
    public readonly budget: number,
    /** What the server reported (the estimate is never part of it). */
    public readonly usage: Usage,
    public readonly estimated: { tokens: number; calls: number } = { tokens: 0, calls: 0 },
  ) {
    super(
      `token budget exceeded (used ${used} of ${budget}` +
        (estimated.calls ? `, estimated: ${estimated.tokens} of them for ${estimated.calls} call${estimated.calls === 1 ? '' : 's'} the server reported no usage for)` : ')'),
    );
  }
}

export class StructuredOutputError extends Error {
  override name = 'StructuredOutputError';
}

export type CallUsage = LlmCall;

const TRANSIENT = new Set([408, 409, 429, 500, 502, 503, 504]);
/** Hosted models already warned about for having no price (one warning per model and process). */
const unpricedWarned = new Set<string>();
/** Models already warned about for answering without usage (one warning per model and process). */
const noUsageWarned = new Set<string>();

export interface CallOptions {
  /** The role tier's reasoning effort; sent only to models that take one. */
  effort?: ReasoningEffort;
}

/** The server's own words for a refused request, as the SDK reports them. */
function serverMessage(err: unknown): string {
  const e = err as APIError & { error?: { message?: string } };
  return String(e.error?.message ?? e.message ?? err).slice(0, 500);
}

/**
 * One cycle's LLM calls: retries of transient errors with backoff, abort on the cycle's signal, the
 * queue's rate limit, usage and cost per call, and the per-cycle token budget.
 */
export class LlmSession {
  readonly calls: CallUsage[] = [];
  private jsonInText = false;
  /** Calls the server reported no usage for, counted against the budget only (see token-estimate.ts). */
  private readonly estimated = { tokens: 0, calls: 0 };

  constructor(
    private readonly client: OpenAI,
    private readonly ctx: CycleContext,
    private readonly opts: {
      budget: number;
      prices: PriceTable;
      /** The server is local (Ollama …): unknown models cost 0 instead of an unknown cost. */
      local: boolean;
      temperature: number;
      maxCompletionTokens: number;
      agent: string;
      sleep?: (ms: number) => Promise<void>;
      /** Told of every finished call (the run's audit trail is written as it goes). */
      onCall?: (call: LlmCall) => Promise<void>;
    },
  ) {
    // Each SDK call listens on the cycle's signal; a cycle makes a dozen or more, all legitimately.
    setMaxListeners(200, ctx.signal);
  }

  usage(): Usage {
    const u = this.calls.reduce(
      (a, c) => ({ prompt_tokens: a.prompt_tokens + c.prompt_tokens, completion_tokens: a.completion_tokens + c.completion_tokens, cost_usd: a.cost_usd + c.cost_usd }),
      { prompt_tokens: 0, completion_tokens: 0, cost_usd: 0 },
    );
    const unknown = this.calls.some((c) => c.cost_unknown);
    const unreported = this.calls.some((c) => c.usage_unknown);
    return {
      ...u,
      total_tokens: u.prompt_tokens + u.completion_tokens,
      cost_usd: Math.round(u.cost_usd * 1e6) / 1e6,
      calls: this.calls.length,
      ...(unknown ? { cost_unknown: true } : {}),
      ...(unreported ? { usage_unknown: true } : {}),
    };
  }

  models(): string[] {
    return [...new Set(this.calls.map((c) => c.model))];
  }

  /** Free-text answer. */
  async text(role: string, model: string, messages: ChatCompletionMessageParam[], opts: CallOptions = {}): Promise<string> {
    const { content } = await this.complete(role, model, messages, opts);
    return content.trim();
  }

  /** A JSON answer validated against `schema`; one repair re-ask, then a clear failure. */
  async structured<T>(role: string, model: string, messages: ChatCompletionMessageParam[], schema: z.ZodType<T>, jsonSchema: Record<string, unknown>, opts: CallOptions = {}): Promise<T> {
    let convo = [...messages];
    let lastError = '';
    for (let round = 0; round < 2; round++) {
      const { content, finish } = await this.complete(role, model, convo, opts, jsonSchema);
      const parsed = parseJson(content);
      const checked = parsed === undefined ? null : schema.safeParse(parsed);
      if (checked?.success && finish !== 'length') return checked.data;
      lastError =
        finish === 'length'
          ? 'the answer was truncated'
          : parsed === undefined
            ? content.trim() === ''
              ? 'the answer was empty'
              : 'the answer was not JSON'
            : checked!.success
              ? 'the answer was truncated'
              : checked!.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
      convo = [
        ...convo,
        { role: 'assistant', content: content || '(empty)' },
        { role: 'user', content: `Your previous answer was invalid (${lastError}). Reply with only one JSON object that matches the schema exactly.` },
      ];
    }
    throw new StructuredOutputError(`${role} returned invalid structured output after 1 repair: ${lastError}`);
  }

  private async complete(role: string, model: string, messages: ChatCompletionMessageParam[], opts: CallOptions, jsonSchema?: Record<string, unknown>): Promise<{ content: string; finish: string | null }> {
    const { signal, logger } = this.ctx;
    this.checkBudget();
    let body = this.request(model, messages, opts, jsonSchema);
    for (let attempt = 0; ; attempt++) {
      if (signal.aborted) throw new CycleAbortedError(String(signal.reason ?? 'aborted'));
      await this.ctx.acquireCallSlot?.('llm');
      const startedAt = Date.now();
      try {
        const res = await this.client.chat.completions.create(body, { signal });
        const choice = res.choices[0];
        // Some OpenAI-compatible servers answer `usage: null`, or no usage at all: the call's tokens, and
        // so its cost, are not known — never counted as 0 tokens at $0.
        const reported = res.usage !== null && res.usage !== undefined;
        const promptTokens = res.usage?.prompt_tokens ?? 0;
        const completionTokens = res.usage?.completion_tokens ?? 0;
        // Priced by the model asked for: a server's own name for it (a dated snapshot) costs the same.
        // Unreported tokens still cost nothing on a local server whose model has no price (Ollama): that
        // cost is known; a priced model (a local proxy to a hosted one) or a hosted server's is not.
        const price = reported
          ? priceCall(this.opts.prices, model, promptTokens, completionTokens, { local: this.opts.local })
          : { cost_usd: 0, cost_unknown: !(this.opts.local && !hasPrice(this.opts.prices, model)) };
        const call: CallUsage = {
          role,
          model: res.model || model,
          prompt_tokens: promptTokens,
          completion_tokens: completionTokens,
          cost_usd: price.cost_usd,
          ...(price.cost_unknown ? { cost_unknown: true } : {}),
          ...(reported ? {} : { usage_unknown: true }),
          latency_ms: Date.now() - startedAt,
          attempt: attempt + 1,
        };
        if (!reported) {
          this.estimated.tokens += estimateCallTokens(body, choice?.message?.content ?? choice?.message?.refusal ?? '', { reasoning: capabilitiesOf(model).reasoning });
          this.estimated.calls++;
        }
        if (!reported && !noUsageWarned.has(model)) {
          noUsageWarned.add(model);
          logger.warn({ model }, 'the LLM server reported no token usage: tokens and cost of its calls are reported as unknown; the token budget counts a conservative estimate of them');
        } else if (price.cost_unknown && reported && !unpricedWarned.has(model)) {
          unpricedWarned.add(model);
          logger.warn({ model }, 'no price known for this hosted model: its cost is reported as unknown (set LLM_PRICES to price it)');
        }
        this.calls.push(call);
        logger.debug({ role, model, tokens: promptTokens + completionTokens, ms: call.latency_ms, attempt: call.attempt }, 'llm call');
        await Promise.all([this.count(call), this.opts.onCall?.(call).catch(() => undefined)]);
        // A refusal (no content, the model's reason instead) is the answer: the same request would be refused
        // again, and paid for again. It ends the cycle with the model's words; it is never read as an empty answer.
        const refusal = choice?.message?.refusal;
        if (typeof refusal === 'string' && refusal.trim() !== '') throw new LlmRefusalError(role, call.model, refusal.trim().slice(0, 1000));
        this.checkBudget();
        return { content: choice?.message?.content ?? '', finish: choice?.finish_reason ?? null };
      } catch (err) {
        if (err instanceof TokenBudgetExceededError || err instanceof LlmRefusalError) throw err;
        if (signal.aborted) throw new CycleAbortedError(String(signal.reason ?? 'aborted'));
        const status = err instanceof APIError ? err.status : undefined;
        // Small local models often reject response_format: fall back to JSON in the text for the rest of the cycle.
        if (status === 400 && jsonSchema && !this.jsonInText && /response_format|json_schema|structured/i.test((err as Error).message)) {
          this.jsonInText = true;
          logger.warn({ role, model }, 'server rejected structured output; asking for JSON in the text');
          body = this.request(model, messages, opts, jsonSchema);
          attempt--;
          continue;
        }
        // A refusal that a retry would only repeat (and pay for again): end the job with the server's words.
        if (status === 401 || status === 403) throw new LlmRequestRejectedError(`LLM server refused the API key (${status}): ${serverMessage(err)} — check OPENAI_API_KEY`, status);
        if (status === 404) throw new LlmRequestRejectedError(`LLM server answered 404 for model "${model}" (${role}): ${serverMessage(err)} — check the model name and OPENAI_BASE_URL (Ollama: http://localhost:11434/v1)`, status);
        if (status !== undefined && status >= 400 && status < 500 && !TRANSIENT.has(status)) {
          throw new LlmRequestRejectedError(`LLM server rejected the ${role} request to "${model}" (${status}): ${serverMessage(err)}`, status);
        }
        const transient = (status !== undefined && TRANSIENT.has(status)) || err instanceof APIConnectionError;
        if (!transient || attempt >= 3) throw err;
        const delay = retryDelayMs(err instanceof APIError ? err.headers : undefined, attempt);
        logger.warn({ role, model, status, attempt: attempt + 1, delayMs: Math.round(delay) }, 'transient LLM error; retrying');
        await (this.opts.sleep ?? sleepWithSignal(signal))(delay);
      }
    }
  }

  /** The body this model family accepts: reasoning models get no temperature, a completion cap and their effort. */
  private request(model: string, messages: ChatCompletionMessageParam[], opts: CallOptions, jsonSchema?: Record<string, unknown>) {
    const caps = capabilitiesOf(model);
    const effort = opts.effort ? effortFor(model, opts.effort) : undefined;
    const base = caps.reasoning
      ? { model, messages, max_completion_tokens: this.opts.maxCompletionTokens, ...(effort ? { reasoning_effort: effort } : {}) }
      : { model, messages, temperature: this.opts.temperature };
    if (!jsonSchema) return base;
    if (this.jsonInText) {
      const instruction = `Reply with only a JSON object (no prose, no code fence) matching this JSON schema:\n${JSON.stringify(jsonSchema)}`;
      return { ...base, messages: [...messages, { role: 'user' as const, content: instruction }] };
    }
    return { ...base, response_format: { type: 'json_schema' as const, json_schema: { name: 'answer', schema: jsonSchema, strict: true } } };
  }

  private checkBudget(): void {
    const used = this.usage().total_tokens + this.estimated.tokens;
    if (used > this.opts.budget) throw new TokenBudgetExceededError(used, this.opts.budget, this.usage(), { ...this.estimated });
  }

  /** The metrics count what the result reports: tokens and cost as reported, and the calls whose cost is not known. */
  private async count(call: CallUsage): Promise<void> {
    const keys = productKeys(this.ctx.config.QUEUE_PREFIX);
    const labels = { agent: this.opts.agent, model: call.model };
    await Promise.all([
      call.usage_unknown ? Promise.resolve() : incrementCounter(this.ctx.redis, keys, 'llm_tokens_total', { ...labels, kind: 'prompt' }, call.prompt_tokens),
      call.usage_unknown ? Promise.resolve() : incrementCounter(this.ctx.redis, keys, 'llm_tokens_total', { ...labels, kind: 'completion' }, call.completion_tokens),
      call.cost_usd > 0 ? incrementCounter(this.ctx.redis, keys, 'llm_cost_usd_total', labels, call.cost_usd) : Promise.resolve(),
      call.cost_unknown ? incrementCounter(this.ctx.redis, keys, 'llm_calls_cost_unknown_total', { ...labels, reason: call.usage_unknown ? 'no_usage' : 'unpriced' }) : Promise.resolve(),
    ]).catch(() => undefined);
  }
}

function sleepWithSignal(signal: AbortSignal) {
  return (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
    });
}

/** The first JSON object in a text, also inside ``` fences; undefined when there is none. */
export function parseJson(text: string): unknown {
  const trimmed = text.trim();
  const fenced = /```(?:json)?\s*([\s\S]*?)```/.exec(trimmed)?.[1];
  for (const candidate of [trimmed, fenced, extractObject(trimmed)]) {
    if (!candidate) continue;
    try {
      return JSON.parse(candidate);
    } catch {
      // try the next form
    }
  }
  return undefined;
}

function extractObject(text: string): string | undefined {
  const start = text.indexOf('{');
  if (start < 0) return undefined;
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{') depth++;
    else if (c === '}' && --depth === 0) return text.slice(start, i + 1);
  }
  return undefined;
}

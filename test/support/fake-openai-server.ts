import { createServer, type IncomingMessage, type Server } from 'node:http';

/** What the fake answers for one request. */
export interface FakeReply {
  status?: number;
  headers?: Record<string, string>;
  /** Raw error body for non-200 statuses. */
  error?: { message: string; type?: string; code?: string | null };
  content?: string;
  finish_reason?: 'stop' | 'length';
  /**
   * Token usage of the answer (default 100 prompt, 20 completion). `null` answers `"usage": null`, as
   * some OpenAI-compatible servers do; `omitUsage` leaves the field out altogether.
   */
  usage?: { prompt_tokens: number; completion_tokens: number } | null;
  omitUsage?: boolean;
  /**
   * The model refuses: the message has `content: null` and this text as `refusal` (the hosted API's
   * shape, usage included: a refusal is billed). Not with `content`, and not in `ollama` mode (Ollama's
   * endpoint has no refusal field).
   */
  refusal?: string;
  delayMs?: number;
  /** Never answer (a hung server). */
  hang?: boolean;
}

export interface RecordedRequest {
  body: {
    model: string;
    messages: Array<{ role: string; content: string }>;
    response_format?: unknown;
    temperature?: number;
    max_tokens?: number;
    max_completion_tokens?: number;
    reasoning_effort?: string;
  };
  role: string;
  arrivedAt: number;
  finishedAt: number;
}

export interface FakeOpenAIOptions {
  /**
   * `openai` (default): the hosted API's rules for reasoning models. `ollama`: a local server whose
   * OpenAI-compatible endpoint has no structured output (a `response_format` is refused).
   */
  mode?: 'openai' | 'ollama';
  /** Models the server serves; others answer 404 model_not_found. All models when absent. */
  models?: string[];
}

const REASONING = /^(gpt-5(?!(\.\d+)?-chat)|o[134](-|$))/;
const invalid = (message: string, param: string | null, code: string) => ({ status: 400, error: { message, type: 'invalid_request_error', param, code } });

/**
 * The checks the hosted API makes before it answers, as documented and as users hit them: reasoning
 * models (gpt-5*, o1/o3/o4*) refuse `temperature` other than 1 and `max_tokens`; we also require
 * `max_completion_tokens` there (our client must cap reasoning output); `reasoning_effort` only where the
 * family takes it.
 */
function hostedRules(body: RecordedRequest['body']): { status: number; error: { message: string; type: string; param: string | null; code: string } } | null {
  const model = body.model.replace(/^.*\//, '');
  if (REASONING.test(model)) {
    if (body.temperature !== undefined && body.temperature !== 1) {
      return invalid(`Unsupported value: 'temperature' does not support ${body.temperature} with this model. Only the default (1) value is supported.`, 'temperature', 'unsupported_value');
    }
    if (body.max_tokens !== undefined) return invalid("Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.", 'max_tokens', 'unsupported_parameter');
    if (body.max_completion_tokens === undefined) return invalid("Missing required parameter: 'max_completion_tokens'.", 'max_completion_tokens', 'missing_required_parameter');
    const efforts = /^gpt-5\.\d/.test(model) ? ['none', 'low', 'medium', 'high'] : /^gpt-5/.test(model) ? ['minimal', 'low', 'medium', 'high'] : ['low', 'medium', 'high'];
    if (body.reasoning_effort !== undefined && !efforts.includes(body.reasoning_effort)) {
      return invalid(`Unsupported value: 'reasoning_effort' does not support '${body.reasoning_effort}' with this model. Supported values are: ${efforts.map((e) => `'${e}'`).join(', ')}.`, 'reasoning_effort', 'unsupported_value');
    }
  } else if (body.reasoning_effort !== undefined) {
    return invalid("Unsupported parameter: 'reasoning_effort' is not supported with this model.", 'reasoning_effort', 'unsupported_parameter');
  }
  return null;
}

/**
 * A local HTTP server speaking OpenAI's chat-completions wire format (POST /v1/chat/completions),
 * scriptable per test; the real `openai` client is pointed at it by base URL.
 */
export async function startFakeOpenAI(handler: (req: RecordedRequest) => FakeReply | Promise<FakeReply>, opts: FakeOpenAIOptions = {}) {
  const requests: RecordedRequest[] = [];
  const hung: Array<() => void> = [];
  const server: Server = createServer(async (req, res) => {
    if (req.method !== 'POST' || !req.url?.endsWith('/chat/completions')) {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: `no route ${req.url}`, type: 'invalid_request_error' } }));
      return;
    }
    const body = JSON.parse(await readBody(req)) as RecordedRequest['body'];
    const system = body.messages.find((m) => m.role === 'system')?.content ?? '';
    const role = /You are the ([\w -]+?) of a trading desk/.exec(system)?.[1] ?? 'unknown';
    const record: RecordedRequest = { body, role, arrivedAt: Date.now(), finishedAt: 0 };
    requests.push(record);
    const refused =
      opts.models && !opts.models.includes(body.model)
        ? { status: 404, error: { message: `The model \`${body.model}\` does not exist or you do not have access to it.`, type: 'invalid_request_error', param: null, code: 'model_not_found' } }
        : opts.mode === 'ollama'
          ? body.response_format
            ? { status: 400, error: { message: 'response_format is not supported by this server', type: 'invalid_request_error', param: null, code: null } }
            : null
          : hostedRules(body);
    const reply: FakeReply = refused ?? (await handler(record));
    if (reply.hang) {
      hung.push(() => res.destroy());
      return;
    }
    if (reply.delayMs) await new Promise((r) => setTimeout(r, reply.delayMs));
    record.finishedAt = Date.now();
    if (reply.status && reply.status !== 200) {
      res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
      res.end(JSON.stringify({ error: { message: reply.error?.message ?? `status ${reply.status}`, type: reply.error?.type ?? 'error', param: (reply.error as { param?: string | null } | undefined)?.param ?? null, code: reply.error?.code ?? null } }));
      return;
    }
    if (reply.refusal !== undefined && (reply.content !== undefined || opts.mode === 'ollama')) {
      throw new Error('fake OpenAI: a refusal carries no content, and Ollama\'s endpoint has no refusal field');
    }
    const usage = reply.usage === undefined ? { prompt_tokens: 100, completion_tokens: 20 } : reply.usage;
    const reasoning = usage && REASONING.test(body.model.replace(/^.*\//, '')) ? Math.floor(usage.completion_tokens / 2) : 0;
    // The hosted API's message always has `refusal` (null unless the model refused) and `annotations`.
    const message =
      opts.mode === 'ollama'
        ? { role: 'assistant', content: reply.content ?? '' }
        : reply.refusal !== undefined
          ? { role: 'assistant', content: null, refusal: reply.refusal, annotations: [] }
          : { role: 'assistant', content: reply.content ?? '', refusal: null, annotations: [] };
    res.writeHead(200, { 'content-type': 'application/json', ...reply.headers });
    res.end(
      JSON.stringify({
        id: `chatcmpl-${requests.length}`,
        object: 'chat.completion',
        created: Math.floor(Date.now() / 1000),
        model: body.model,
        choices: [{ index: 0, message, logprobs: null, finish_reason: reply.finish_reason ?? 'stop' }],
        ...(reply.omitUsage
          ? {}
          : {
              usage: usage && {
                ...usage,
                total_tokens: usage.prompt_tokens + usage.completion_tokens,
                prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
                completion_tokens_details: { reasoning_tokens: reasoning, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
              },
            }),
      }),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests,
    async close() {
      hung.forEach((f) => f());
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let data = '';
    req.on('data', (c: Buffer) => (data += c.toString()));
    req.on('end', () => resolve(data));
  });
}

/** Well-formed answers for each role of the pipeline. */
export function defaultAnswer(role: string, rating = 'Overweight'): string {
  if (role === 'research manager') return JSON.stringify({ recommendation: rating, rationale: 'trend intact', plan: 'accumulate on dips' });
  if (role === 'trader') return JSON.stringify({ action: 'BUY', entry: 100, stop: 95, target: 110, sizing: '10% of equity', rationale: 'plan says buy' });
  if (role === 'portfolio manager') return JSON.stringify({ rating, confidence: 0.7, summary: 'go long', rationale: 'risk acceptable' });
  return `${role} says: looks fine.`;
}

import { createServer, type IncomingMessage, type Server } from 'node:http';

/** What the fake answers for one request. */
export interface FakeReply {
  status?: number;
  headers?: Record<string, string>;
  /** Raw error body for non-200 statuses. */
  error?: { message: string; type?: string; code?: string | null };
  content?: string;
  finish_reason?: 'stop' | 'length';
  usage?: { prompt_tokens: number; completion_tokens: number };
  delayMs?: number;
  /** Never answer (a hung server). */
  hang?: boolean;
}

export interface RecordedRequest {
  body: { model: string; messages: Array<{ role: string; content: string }>; response_format?: unknown; temperature?: number };
  role: string;
  arrivedAt: number;
  finishedAt: number;
}

/**
 * A local HTTP server speaking OpenAI's chat-completions wire format (POST /v1/chat/completions),
 * scriptable per test; the real `openai` client is pointed at it by base URL.
 */
export async function startFakeOpenAI(handler: (req: RecordedRequest) => FakeReply | Promise<FakeReply>) {
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
    const reply = await handler(record);
    if (reply.hang) {
      hung.push(() => res.destroy());
      return;
    }
    if (reply.delayMs) await new Promise((r) => setTimeout(r, reply.delayMs));
    record.finishedAt = Date.now();
    if (reply.status && reply.status !== 200) {
      res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
      res.end(JSON.stringify({ error: { message: reply.error?.message ?? `status ${reply.status}`, type: reply.error?.type ?? 'error', code: reply.error?.code ?? null } }));
      return;
    }
    const usage = reply.usage ?? { prompt_tokens: 100, completion_tokens: 20 };
    res.writeHead(200, { 'content-type': 'application/json', ...reply.headers });
    res.end(
      JSON.stringify({
        id: `chatcmpl-${requests.length}`,
        object: 'chat.completion',
        created: Math.floor(Date.now() / 1000),
        model: body.model,
        choices: [{ index: 0, message: { role: 'assistant', content: reply.content ?? '' }, finish_reason: reply.finish_reason ?? 'stop' }],
        usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens },
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

import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { agentProfileSchema, CycleAbortedError, readCounters, productKeys, type Config } from '../../core/index.ts';
import { computeIndicators } from '../indicators.ts';
import type { CycleContext, CycleStage } from '../cycle-context.ts';
import type { MarketSnapshot } from '../analysis-types.ts';
import { createSimulatedProvider } from '../data/simulated-provider.ts';
import { defaultAnswer, startFakeOpenAI } from '../../../test/support/fake-openai-server.ts';
import { startFakeResearch } from '../../../test/support/fake-research.ts';
import { researchSourcesFor } from '../data/research-sources.ts';
import { deletePrefix, silentLogger, testConfig } from '../../../test/support/redis-test-env.ts';
import { LlmRefusalError, LlmRequestRejectedError } from '../../core/index.ts';
import { readDeskRun, runLlmAnalysis, StructuredOutputError, TokenBudgetExceededError } from './index.ts';

const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const servers: Array<{ close(): Promise<void> }> = [];
const prefixes: string[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
const research = await startFakeResearch();
afterAll(async () => {
  await research.close();
  redis.disconnect();
  await Promise.all(prefixes.map((p) => deletePrefix(p)));
});

const daily = await createSimulatedProvider().getDailyBars('NVDA', { to: '2026-11-20', lookbackDays: 260 });
const snapshot: MarketSnapshot = {
  ticker: 'NVDA',
  date: '2026-11-20',
  data_source: 'simulated',
  as_of: '2026-11-20T21:00:00.000Z',
  unavailable: [],
  daily,
  intraday: null,
  quote: { price: daily.at(-1)!.c, time: '2026-11-20T20:00:00Z' },
  fundamentals: null,
  news: [{ title: 'NVDA beats estimates' }, { title: 'Chip demand strong' }],
  indicators: computeIndicators(daily),
};

async function setup(handler: Parameters<typeof startFakeOpenAI>[0], profile: Record<string, unknown> = {}) {
  const server = await startFakeOpenAI(handler);
  servers.push(server);
  const config: Config = testConfig('llm', { OPENAI_BASE_URL: server.baseURL, OPENAI_API_KEY: 'test-key' });
  prefixes.push(config.QUEUE_PREFIX);
  const progress: Array<[CycleStage, number]> = [];
  const controller = new AbortController();
  const ctx: CycleContext = {
    config,
    redis,
    logger: silentLogger,
    signal: controller.signal,
    jobId: 'job-1',
    attempt: 1,
    reportProgress: async (stage, percent) => void progress.push([stage, percent]),
    now: () => new Date('2026-11-20T23:00:00Z'),
  };
  const input = { agent: 'llm-desk', snapshot, profile: agentProfileSchema.parse({ engine: 'llm', ...profile }), options: {} };
  return { server, ctx, input, progress, controller, config };
}

const sources = researchSourcesFor('yahoo', { SOCIAL_SOURCE: 'stocktwits' }, { fetch: research.fetch, now: () => new Date('2026-11-20T23:00:00Z') });
const prices = { 'gpt-4o': { input: 2.5, output: 10 }, 'gpt-4o-mini': { input: 0.15, output: 0.6 } };

describe('llm engine against a local OpenAI-compatible server (real openai client)', () => {
  it('runs analysts in parallel, debates and discusses for the configured rounds, and maps the rating', async () => {
    const { server, ctx, input, progress } = await setup(
      (r) => ({ content: defaultAnswer(r.role), delayMs: r.role.endsWith('analyst') && !r.role.includes('risk') ? 150 : 0 }),
      { debate_rounds: 2, risk_rounds: 1 },
    );
    const out = await runLlmAnalysis(input, ctx, { prices, research: sources });
    const analysts = server.requests.filter((r) => /^(market|fundamentals|news|sentiment) analyst$/.test(r.role));
    expect(analysts.map((a) => a.role).sort()).toEqual(['fundamentals analyst', 'market analyst', 'news analyst', 'sentiment analyst']);
    const lastArrival = Math.max(...analysts.map((a) => a.arrivedAt));
    const firstFinish = Math.min(...analysts.map((a) => a.finishedAt));
    expect(lastArrival).toBeLessThan(firstFinish); // all three were in flight together
    expect(server.requests.filter((r) => r.role.endsWith('researcher'))).toHaveLength(4);
    expect(server.requests.filter((r) => r.role.endsWith('risk analyst'))).toHaveLength(3);
    expect(out.rating).toBe('Overweight');
    expect(out.decision).toBe('BUY');
    expect(out.reports.fundamentals).toBe('fundamentals analyst says: looks fine.');
    expect(out.reports.debate).toMatch(/Bull \(round 2\)/);
    expect(progress.map(([s]) => s)).toEqual(['analysts', 'debate', 'trader', 'risk', 'decision']);
    const pm = server.requests.find((r) => r.role === 'portfolio manager')!;
    expect(pm.body.model).toBe('gpt-4o');
    expect(pm.body.response_format).toMatchObject({ type: 'json_schema' });
  });

  it('sums usage and cost per call, and counts tokens per agent and model', async () => {
    const { ctx, input, config } = await setup((r) => ({ content: defaultAnswer(r.role), usage: { prompt_tokens: 1000, completion_tokens: 200 } }), { debate_rounds: 1, risk_rounds: 1 });
    const out = await runLlmAnalysis(input, ctx, { prices, research: sources });
    // 4 analysts + 2 researchers + trader + 3 risk = 10 quick calls; manager + PM = 2 deep calls.
    expect(out.usage.calls).toBe(12);
    expect(out.usage.total_tokens).toBe(12 * 1200);
    const quick = 10 * (1000 * 0.15 + 200 * 0.6) / 1e6;
    const deep = 2 * (1000 * 2.5 + 200 * 10) / 1e6;
    expect(out.usage.cost_usd).toBeCloseTo(quick + deep, 6);
    expect(out.models.sort()).toEqual(['gpt-4o', 'gpt-4o-mini']);
    const counters = await readCounters(redis, productKeys(config.QUEUE_PREFIX));
    expect(counters.find((c) => c.name === 'llm_tokens_total' && c.labels.model === 'gpt-4o' && c.labels.kind === 'prompt')?.value).toBe(2000);
  });

  it('a server that reports no usage (null, or none at all) leaves tokens and cost unknown, never $0', async () => {
    // The analysts' answers carry `"usage": null`, the trader's none; the rest are reported.
    const { ctx, input, config } = await setup(
      (r) => ({ content: defaultAnswer(r.role), usage: r.role.endsWith(' analyst') && !r.role.includes('risk') ? null : { prompt_tokens: 1000, completion_tokens: 200 }, omitUsage: r.role === 'trader' }),
      { debate_rounds: 1, risk_rounds: 1 },
    );
    const out = await runLlmAnalysis(input, ctx, { prices, research: sources });
    const unreported = out.calls.filter((c) => c.usage_unknown);
    expect(unreported.map((c) => c.role).sort()).toEqual(['fundamentals analyst', 'market analyst', 'news analyst', 'sentiment analyst', 'trader']);
    expect(unreported.every((c) => c.cost_unknown && c.prompt_tokens === 0 && c.completion_tokens === 0 && c.cost_usd === 0)).toBe(true);
    expect(out.usage).toMatchObject({ calls: 12, cost_unknown: true, usage_unknown: true, total_tokens: 7 * 1200 });
    // The cost is what the reported calls cost: 2 researchers + 3 risk (quick), manager + PM (deep).
    expect(out.usage.cost_usd).toBeCloseTo((5 * (1000 * 0.15 + 200 * 0.6) + 2 * (1000 * 2.5 + 200 * 10)) / 1e6, 6);
    const counters = await readCounters(redis, productKeys(config.QUEUE_PREFIX));
    const unknownCalls = counters.filter((c) => c.name === 'llm_calls_cost_unknown_total' && c.labels.reason === 'no_usage').reduce((n, c) => n + c.value, 0);
    expect(unknownCalls).toBe(5);
    const tokens = counters.filter((c) => c.name === 'llm_tokens_total').reduce((n, c) => n + c.value, 0);
    expect(tokens).toBe(out.usage.total_tokens);
  });

  it('a refusal of a structured answer fails the cycle at once with the model\'s words, never a repair or retry', async () => {
    const words = "I'm sorry, but I can't help with making investment decisions.";
    const { server, ctx, input } = await setup((r) => (r.role === 'portfolio manager' ? { refusal: words, usage: { prompt_tokens: 900, completion_tokens: 12 } } : { content: defaultAnswer(r.role) }));
    const err = await runLlmAnalysis(input, ctx, { prices, research: sources }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LlmRefusalError);
    expect((err as LlmRefusalError).refusal).toBe(words);
    expect((err as Error).message).toBe(`the portfolio manager model "gpt-4o" refused to answer: ${words}`);
    expect(server.requests.filter((r) => r.role === 'portfolio manager')).toHaveLength(1);
    // The refused call was billed: it is in the desk's record, with the failure.
    const run = (await readDeskRun(redis, ctx.config.QUEUE_PREFIX, ctx.jobId))!;
    expect(run).toMatchObject({ status: 'failed', error: (err as Error).message });
    expect(run.calls.at(-1)).toMatchObject({ role: 'portfolio manager', prompt_tokens: 900, completion_tokens: 12 });
  });

  it('a refusal of a free-text answer is a refusal too, not an empty report', async () => {
    const { server, ctx, input } = await setup((r) => (r.role === 'bull researcher' ? { refusal: 'I cannot argue for a trade.' } : { content: defaultAnswer(r.role) }));
    const err = await runLlmAnalysis(input, ctx, { prices, research: sources }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LlmRefusalError);
    expect((err as Error).message).toMatch(/bull researcher model "gpt-4o-mini" refused to answer: I cannot argue for a trade\./);
    expect(server.requests.filter((r) => r.role === 'bull researcher')).toHaveLength(1);
    expect(server.requests.some((r) => r.role === 'bear researcher')).toBe(false);
  });

  it('repairs an invalid structured answer once', async () => {
    let pmCalls = 0;
    const { ctx, input } = await setup((r) => {
      if (r.role === 'portfolio manager' && pmCalls++ === 0) return { content: '{"rating":"Strong Buy","confidence":2}' };
      return { content: defaultAnswer(r.role, 'Underweight') };
    });
    const out = await runLlmAnalysis(input, ctx, { prices, research: sources });
    expect(pmCalls).toBe(2);
    expect(out.decision).toBe('SELL');
  });

  it('fails hard when the answer is still invalid after one repair — never a free-text guess', async () => {
    const { ctx, input } = await setup((r) => (r.role === 'portfolio manager' ? { content: 'I think you should probably buy.' } : { content: defaultAnswer(r.role) }));
    const err = await runLlmAnalysis(input, ctx, { prices, research: sources }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StructuredOutputError);
    expect((err as Error).message).toBe('portfolio manager returned invalid structured output after 1 repair: the answer was not JSON');
  });

  it('falls back to JSON in the text when the server rejects response_format', async () => {
    const { server, ctx, input } = await setup((r) => {
      if (r.body.response_format) return { status: 400, error: { message: "Invalid parameter: 'response_format' is not supported" } };
      return { content: r.role === 'portfolio manager' ? '```json\n{"rating":"Hold","confidence":0.5,"summary":"wait","rationale":"mixed"}\n```' : defaultAnswer(r.role) };
    });
    const out = await runLlmAnalysis(input, ctx, { prices, research: sources });
    expect(out.decision).toBe('HOLD');
    expect(server.requests.filter((r) => r.body.response_format)).toHaveLength(1);
  });

  it('retries a 429 (honouring retry-after) and succeeds', async () => {
    let first = true;
    const { server, ctx, input } = await setup((r) => {
      if (r.role === 'trader' && first) {
        first = false;
        return { status: 429, headers: { 'retry-after': '0' }, error: { message: 'rate limited' } };
      }
      return { content: defaultAnswer(r.role) };
    });
    const out = await runLlmAnalysis(input, ctx, { prices, research: sources });
    expect(out.decision).toBe('BUY');
    expect(server.requests.filter((r) => r.role === 'trader')).toHaveLength(2);
  });

  it('waits between tries of a 429 or 503 that names no retry-after (backoff), and as long as the server asks when it does', async () => {
    const tries = new Map<string, number>();
    const { server, ctx, input } = await setup((r) => {
      const n = (tries.get(r.role) ?? 0) + 1;
      tries.set(r.role, n);
      if (r.role === 'trader' && n <= 2) return { status: n === 1 ? 429 : 503, error: { message: 'busy' } };
      const asked: Record<string, string> | null = r.role !== 'portfolio manager' ? null : n === 1 ? { 'retry-after-ms': '1500' } : n === 2 ? { 'retry-after': '2' } : null;
      if (asked) return { status: 429, headers: asked, error: { message: 'rate limited' } };
      return { content: defaultAnswer(r.role) };
    });
    const waits: number[] = [];
    const out = await runLlmAnalysis(input, ctx, { prices, research: sources, sleep: async (ms) => void waits.push(ms) });
    expect(out.decision).toBe('BUY');
    expect(server.requests.filter((r) => r.role === 'trader')).toHaveLength(3);
    // Backoff with jitter: 250–500 ms, then 500–1000 ms; never 0 for a missing header.
    expect(waits[0]).toBeGreaterThanOrEqual(250);
    expect(waits[0]).toBeLessThanOrEqual(500);
    expect(waits[1]).toBeGreaterThanOrEqual(500);
    expect(waits[1]).toBeLessThanOrEqual(1000);
    expect(waits.slice(2)).toEqual([1500, 2000]);
  });

  it('aborts quickly on the cycle signal (soft time limit)', async () => {
    const { ctx, input, controller } = await setup((r) => (r.role === 'bull researcher' ? { hang: true } : { content: defaultAnswer(r.role) }));
    setTimeout(() => controller.abort('soft time limit exceeded'), 300);
    const started = Date.now();
    const err = await runLlmAnalysis(input, ctx, { prices, research: sources }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CycleAbortedError);
    expect((err as Error).message).toBe('soft time limit exceeded');
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('aborts the cycle when the token budget is exceeded, with the usage so far', async () => {
    const { server, ctx, input } = await setup((r) => ({ content: defaultAnswer(r.role), usage: { prompt_tokens: 4000, completion_tokens: 1000 } }), { max_tokens_per_cycle: 12_000 });
    const err = await runLlmAnalysis(input, ctx, { prices, research: sources }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TokenBudgetExceededError);
    const e = err as TokenBudgetExceededError;
    // The parallel analysts (5 000 tokens each) already exceed 12 000: the cycle stops before the debate.
    expect(e.message).toBe(`token budget exceeded (used ${e.used} of 12000)`);
    expect(e.used).toBeGreaterThanOrEqual(15_000);
    expect(e.usage.total_tokens).toBe(e.used);
    expect(server.requests.some((r) => r.role.endsWith('researcher'))).toBe(false);
  });

  it('a server that reports no usage is still stopped by the token budget, on a conservative estimate never shown as usage', async () => {
    // Every answer says `"usage": null`: nothing the server says can be counted.
    const { server, ctx, input } = await setup((r) => ({ content: defaultAnswer(r.role), usage: null }), { max_tokens_per_cycle: 1_000 });
    const err = await runLlmAnalysis(input, ctx, { prices, research: sources }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TokenBudgetExceededError);
    const e = err as TokenBudgetExceededError;
    // The analysts' prompts (a bar table each, asked in parallel) count past 1 000: the debate never starts.
    expect(e.message).toBe(`token budget exceeded (used ${e.used} of 1000, estimated: ${e.used} of them for ${e.estimated.calls} call${e.estimated.calls === 1 ? '' : 's'} the server reported no usage for)`);
    expect(e.used).toBe(e.estimated.tokens);
    expect(e.used).toBeGreaterThan(1_000);
    expect(server.requests.some((r) => r.role.endsWith('researcher'))).toBe(false);
    // The estimate is the budget's alone: the usage reported stays unknown, never the guess.
    expect(e.usage).toMatchObject({ total_tokens: 0, cost_usd: 0, calls: e.estimated.calls, usage_unknown: true, cost_unknown: true });
    const run = (await readDeskRun(redis, ctx.config.QUEUE_PREFIX, ctx.jobId))!;
    expect(run).toMatchObject({ status: 'failed', error: e.message, usage: { total_tokens: 0, usage_unknown: true, cost_unknown: true } });
    expect(run.calls.every((c) => c.usage_unknown && c.prompt_tokens === 0 && c.completion_tokens === 0)).toBe(true);
  });

  it('an unpriced model on a local server that reports no usage still costs a known $0 (only its tokens are unknown)', async () => {
    const { ctx, input } = await setup((r) => ({ content: defaultAnswer(r.role), usage: null }), { quick_model: 'llama3.1:8b', deep_model: 'llama3.1:8b' });
    const out = await runLlmAnalysis(input, ctx, { prices, research: sources });
    expect(out.usage).toMatchObject({ total_tokens: 0, cost_usd: 0, usage_unknown: true });
    expect(out.usage.cost_unknown).toBeUndefined();
    // A priced model behind the same server (a local proxy to a hosted one) has a cost nobody reported.
    const proxied = await setup((r) => ({ content: defaultAnswer(r.role), usage: null }), { quick_model: 'gpt-4o-mini', deep_model: 'gpt-4o' });
    const viaProxy = await runLlmAnalysis(proxied.input, proxied.ctx, { prices, research: sources });
    expect(viaProxy.usage).toMatchObject({ usage_unknown: true, cost_unknown: true });
  });

  it("counts a reasoning model's unreported call at its completion cap: its hidden reasoning is not in the answer", async () => {
    const reasoning = { quick_model: 'gpt-5-mini', deep_model: 'gpt-5', max_completion_tokens: 16_000, max_tokens_per_cycle: 50_000 };
    const { server, ctx, input } = await setup((r) => ({ content: defaultAnswer(r.role), usage: null }), reasoning);
    const err = await runLlmAnalysis(input, ctx, { prices: {}, research: sources }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TokenBudgetExceededError);
    // The analysts at up to 16 000 completion tokens each pass 50 000 (the visible answers are a few words).
    const { used, estimated } = err as TokenBudgetExceededError;
    expect(used).toBeGreaterThan(50_000);
    expect(used).toBeGreaterThanOrEqual(estimated.calls * 16_000);
    expect(server.requests.some((r) => r.role.endsWith('researcher'))).toBe(false);
    // The same desk on a model without hidden reasoning fits the budget easily.
    const plain = await setup((r) => ({ content: defaultAnswer(r.role), usage: null }), { ...reasoning, quick_model: 'gpt-4o-mini', deep_model: 'gpt-4o' });
    const out = await runLlmAnalysis(plain.input, plain.ctx, { prices, research: sources });
    expect(out.usage).toMatchObject({ total_tokens: 0, usage_unknown: true, cost_unknown: true });
  });

  it('explains a 404 (wrong base URL or model) without retrying', async () => {
    const { server, ctx, input } = await setup(() => ({ status: 404, error: { message: 'model not found' } }));
    const err = await runLlmAnalysis(input, ctx, { prices, research: sources }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LlmRequestRejectedError);
    expect((err as Error).message).toMatch(/model not found — check the model name and OPENAI_BASE_URL \(Ollama: http:\/\/localhost:11434\/v1\)/);
    // Only analysts were asked (they run together), and none of them twice: a 404 is not retried.
    const roles = server.requests.map((r) => r.role);
    expect(roles.every((r) => r.endsWith(' analyst'))).toBe(true);
    expect(new Set(roles).size).toBe(roles.length);
  });
});

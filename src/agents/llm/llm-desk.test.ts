import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { agentProfileSchema, CycleAbortedError, type Config } from '../../core/index.ts';
import { computeIndicators } from '../indicators.ts';
import type { CycleContext } from '../cycle-context.ts';
import type { MarketSnapshot } from '../analysis-types.ts';
import { createSimulatedProvider } from '../data/simulated-provider.ts';
import { researchSourcesFor } from '../data/research-sources.ts';
import { applyDecision } from '../portfolio/paper-ledger.ts';
import { defaultAnswer, startFakeOpenAI, type FakeOpenAIOptions, type RecordedRequest } from '../../../test/support/fake-openai-server.ts';
import { startFakeResearch } from '../../../test/support/fake-research.ts';
import { deletePrefix, silentLogger, testConfig, waitFor } from '../../../test/support/redis-test-env.ts';
import { startFakeStockTwits } from '../../../test/support/fake-stocktwits-server.ts';
import { createStockTwitsSource } from '../data/stocktwits-source.ts';
import { capabilitiesOf, effortFor, isLocalServer, priceCall, DEFAULT_PRICES, readDeskRun, runLlmAnalysis, TokenBudgetExceededError } from './index.ts';

const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const closers: Array<() => Promise<void>> = [];
const prefixes: string[] = [];
const research = await startFakeResearch();
const limitedSocial = await startFakeResearch({ social: 'rate-limited' });
afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
});
afterAll(async () => {
  await Promise.all([research.close(), limitedSocial.close()]);
  redis.disconnect();
  await Promise.all(prefixes.map((p) => deletePrefix(p)));
});

const now = () => new Date('2026-11-20T23:00:00Z');
const daily = await createSimulatedProvider().getDailyBars('NVDA', { to: '2026-11-20', lookbackDays: 260 });
const snapshot: MarketSnapshot = {
  ticker: 'NVDA',
  date: '2026-11-20',
  data_source: 'simulated',
  as_of: daily.at(-1)!.t,
  unavailable: [],
  daily,
  intraday: null,
  quote: null,
  fundamentals: null,
  news: null,
  indicators: computeIndicators(daily),
};

async function desk(handler: (r: RecordedRequest) => ReturnType<Parameters<typeof startFakeOpenAI>[0]>, profile: Record<string, unknown> = {}, opts: FakeOpenAIOptions & { social?: 'limited' } = {}) {
  const server = await startFakeOpenAI(handler, opts);
  closers.push(() => server.close());
  const config: Config = testConfig('llm-desk', { OPENAI_BASE_URL: server.baseURL, OPENAI_API_KEY: 'test-key' });
  prefixes.push(config.QUEUE_PREFIX);
  const ctx: CycleContext = { config, redis, logger: silentLogger, signal: new AbortController().signal, jobId: `job-${Math.random().toString(36).slice(2)}`, attempt: 1, reportProgress: async () => {}, now };
  const sources = researchSourcesFor('yahoo', { SOCIAL_SOURCE: 'stocktwits' }, { fetch: (opts.social === 'limited' ? limitedSocial : research).fetch, now });
  const input = { agent: 'gpt5-desk', snapshot, profile: agentProfileSchema.parse({ engine: 'llm', ...profile }), options: {}, liveAccount: true };
  return { server, ctx, input, config, run: () => runLlmAnalysis(input, ctx, { research: sources }) };
}

const gpt5 = { quick_model: 'gpt-5-mini', deep_model: 'gpt-5' };
const userText = (r: RecordedRequest) => r.body.messages.filter((m) => m.role === 'user').map((m) => m.content).join('\n');
const systemText = (r: RecordedRequest) => r.body.messages.find((m) => m.role === 'system')?.content ?? '';

describe('the LLM desk with gpt-5 against a server as strict as the hosted API', () => {
  it('completes with a real cost, the reasoning parameters per tier, and calls that sum to the usage', async () => {
    const { server, run } = await desk((r) => ({ content: defaultAnswer(r.role), usage: { prompt_tokens: 2000, completion_tokens: 500 } }), gpt5);
    const out = await run();
    expect(out.decision).toBe('BUY');
    for (const r of server.requests) {
      expect(r.body.temperature).toBeUndefined();
      expect(r.body.max_tokens).toBeUndefined();
      expect(r.body.max_completion_tokens).toBe(16_000);
      expect(r.body.reasoning_effort).toBe(r.body.model === 'gpt-5' ? 'medium' : 'low');
    }
    // gpt-5-mini $0.25/$2, gpt-5 $1.25/$10 per million tokens: 10 quick calls and 2 deep ones.
    const expected = 10 * (2000 * 0.25 + 500 * 2) / 1e6 + 2 * (2000 * 1.25 + 500 * 10) / 1e6;
    expect(out.usage.cost_usd).toBeCloseTo(expected, 6);
    expect(out.usage.cost_usd).toBeGreaterThan(0);
    expect(out.usage.cost_unknown).toBeUndefined();
    expect(out.calls).toHaveLength(out.usage.calls);
    expect(out.calls.reduce((a, c) => a + c.prompt_tokens, 0)).toBe(out.usage.prompt_tokens);
    expect(out.calls.reduce((a, c) => a + c.completion_tokens, 0)).toBe(out.usage.completion_tokens);
    expect(out.calls.reduce((a, c) => a + c.cost_usd, 0)).toBeCloseTo(out.usage.cost_usd, 6);
    expect(out.calls.find((c) => c.role === 'portfolio manager')).toMatchObject({ model: 'gpt-5', prompt_tokens: 2000, completion_tokens: 500, attempt: 1, cost_usd: 0.0075 });
    expect(Object.keys(out.role_reports).sort()).toEqual([
      'aggressive_risk', 'bear_researcher', 'bull_researcher', 'conservative_risk', 'fundamentals_analyst', 'market_analyst',
      'neutral_risk', 'news_analyst', 'portfolio_manager', 'research_manager', 'sentiment_analyst', 'trader',
    ]);
    // Every prompt names the company and the analysis date.
    for (const r of server.requests) expect(systemText(r)).toContain('Company: NVIDIA Corporation (NVDA), sector Technology, industry Semiconductors. Analysis date: 2026-11-20');
  });

  it('gives each analyst its own evidence: dated news with summaries, the three statements, social posts (not the headlines)', async () => {
    const { server, run } = await desk((r) => ({ content: defaultAnswer(r.role) }), gpt5);
    await run();
    const of = (role: string) => userText(server.requests.find((r) => r.role === role)!);
    expect(of('news analyst')).toContain('- [2026-11-19 13:30 UTC] NVIDIA books record data-centre orders (Wire)\n  Hyperscalers lift capex plans again.');
    expect(of('news analyst')).toContain('Stocks edge higher before payrolls');
    expect(of('fundamentals analyst')).toMatch(/Quarter ending 2026-07-31:\n {2}income statement: totalRevenue 55000\.0M.*\n {2}balance sheet: .*stockholdersEquity 120000\.0M.*\n {2}cash flow: operatingCashFlow 25000\.0M/);
    expect(of('sentiment analyst')).toContain('Bullish, 12 likes');
    expect(of('sentiment analyst')).not.toContain('data-centre orders');
  });

  it('later roles read the earlier roles\' answers; risk sees the evidence, trader and PM the position, cash and plan', async () => {
    const cfg = { ...gpt5, debate_rounds: 1, risk_rounds: 1 };
    const { server, ctx, input, run } = await desk((r) => {
      const tag = r.role.toUpperCase().replace(/ /g, '_');
      if (r.role === 'research manager') return { content: JSON.stringify({ recommendation: 'Buy', rationale: 'RM-RATIONALE', plan: 'RM-PLAN' }) };
      if (r.role === 'trader') return { content: JSON.stringify({ action: 'BUY', entry: 100, stop: 95, target: 110, sizing: 'TRADER-SIZING', rationale: 'TRADER-RATIONALE' }) };
      if (r.role === 'portfolio manager') return { content: defaultAnswer(r.role) };
      return { content: `${tag}-ANSWER` };
    }, cfg);
    // The agent already holds NVDA from an earlier cycle.
    await applyDecision(redis, ctx.config.QUEUE_PREFIX, { agent: 'gpt5-desk', jobId: 'earlier', ticker: 'NVDA', decision: 'BUY', price: 100, settings: agentProfileSchema.parse({}).portfolio, at: new Date('2026-11-10T20:00:00Z') });
    await run();
    const of = (role: string) => userText(server.requests.find((r) => r.role === role)!);
    expect(of('bull researcher')).toContain('MARKET_ANALYST-ANSWER');
    expect(of('bear researcher')).toContain('BULL_RESEARCHER-ANSWER');
    expect(of('research manager')).toMatch(/BULL_RESEARCHER-ANSWER[\s\S]*BEAR_RESEARCHER-ANSWER/);
    expect(of('trader')).toContain('RM-PLAN');
    expect(of('trader')).toMatch(/Paper account: 99 shares of NVDA at an average cost of 100\.06 .*cash 90,094\.05 of equity/);
    for (const stance of ['aggressive', 'conservative', 'neutral']) {
      const text = of(`${stance} risk analyst`);
      expect(text).toContain('NEWS_ANALYST-ANSWER'); // the analysts' evidence
      expect(text).toContain('TRADER-RATIONALE'); // the trader's plan
    }
    expect(of('neutral risk analyst')).toMatch(/AGGRESSIVE_RISK_ANALYST-ANSWER[\s\S]*CONSERVATIVE_RISK_ANALYST-ANSWER/);
    const pm = of('portfolio manager');
    expect(pm).toContain('RM-RATIONALE');
    expect(pm).toContain('TRADER-SIZING');
    expect(pm).toContain('NEUTRAL_RISK_ANALYST-ANSWER');
    expect(pm).toContain('99 shares of NVDA');

    // A backdated or replayed cycle is not told today's live position: it did not exist at its date.
    input.liveAccount = false;
    const before = server.requests.length;
    await run();
    const later = server.requests.slice(before);
    for (const role of ['trader', 'portfolio manager']) {
      const text = userText(later.find((r) => r.role === role)!);
      expect(text).toContain('Paper account: not shown');
      expect(text).not.toContain('99 shares');
    }
  });

  it('a budget-aborted cycle keeps the reports it finished, readable by job id', async () => {
    const { ctx, run } = await desk((r) => ({ content: defaultAnswer(r.role), usage: { prompt_tokens: 3000, completion_tokens: 1000 } }), { ...gpt5, max_tokens_per_cycle: 30_000 });
    const err = await run().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TokenBudgetExceededError);
    const kept = await readDeskRun(redis, ctx.config.QUEUE_PREFIX, ctx.jobId);
    expect(kept).toMatchObject({ status: 'failed', error: (err as Error).message, agent: 'gpt5-desk', ticker: 'NVDA', date: '2026-11-20' });
    expect(kept!.role_reports.market_analyst).toBe('market analyst says: looks fine.');
    expect(kept!.role_reports.bull_researcher).toContain('bull researcher says');
    expect(kept!.role_reports.portfolio_manager).toBeUndefined();
    expect(kept!.usage.total_tokens).toBe((err as TokenBudgetExceededError).used);
    expect(kept!.calls.length).toBe(kept!.usage.calls);
  });

  it('skips the sentiment analyst when no social source answers, and says why', async () => {
    const { server, run } = await desk((r) => ({ content: defaultAnswer(r.role) }), gpt5, { social: 'limited' });
    const out = await run();
    expect(server.requests.some((r) => r.role === 'sentiment analyst')).toBe(false);
    expect(out.reports.sentiment).toBe('Sentiment analyst skipped: social posts unavailable for 2026-11-20 from stocktwits: rate-limited by StockTwits (429).');
  });
});

describe('aborts', () => {
  it('a cycle aborted while its research is still loading fails as aborted, with the reason', async () => {
    const hung = await startFakeStockTwits({ hang: true });
    closers.push(hung.close);
    const server = await startFakeOpenAI((r) => ({ content: defaultAnswer(r.role) }));
    closers.push(() => server.close());
    const config: Config = testConfig('llm-desk', { OPENAI_BASE_URL: server.baseURL });
    prefixes.push(config.QUEUE_PREFIX);
    const controller = new AbortController();
    const ctx: CycleContext = { config, redis, logger: silentLogger, signal: controller.signal, jobId: 'aborted', attempt: 1, reportProgress: async () => {}, now };
    const sources = { news: null, fundamentals: null, social: createStockTwitsSource({ fetch: hung.fetch, now, timeoutMs: 60_000 }) };
    const pending = runLlmAnalysis({ agent: 'x', snapshot, profile: agentProfileSchema.parse({ engine: 'llm' }), options: {} }, ctx, { research: sources }).catch((e: unknown) => e);
    await waitFor(() => hung.requests.length > 0);
    controller.abort('cancelled by user');
    const err = await pending;
    expect(err).toBeInstanceOf(CycleAbortedError);
    expect((err as Error).message).toBe('cancelled by user');
    expect(server.requests).toHaveLength(0);
    expect(await readDeskRun(redis, config.QUEUE_PREFIX, 'aborted')).toMatchObject({ status: 'failed', error: 'cancelled by user' });
  });
});

describe('local and unpriced models', () => {
  it('an Ollama-style server without response_format: JSON in the text, cost 0, no temperature refused', async () => {
    const { server, run } = await desk(
      (r) => ({ content: r.role === 'portfolio manager' || r.role === 'research manager' || r.role === 'trader' ? `Here you go:\n\`\`\`json\n${defaultAnswer(r.role, 'Underweight')}\n\`\`\`` : defaultAnswer(r.role) }),
      { quick_model: 'llama3.1:8b', deep_model: 'qwen2.5:14b' },
      { mode: 'ollama' },
    );
    const out = await run();
    expect(out.decision).toBe('SELL');
    expect(out.usage.cost_usd).toBe(0);
    expect(out.usage.cost_unknown).toBeUndefined();
    // One refused structured request, then JSON asked for in the text for the rest of the cycle.
    expect(server.requests.filter((r) => r.body.response_format)).toHaveLength(1);
    expect(server.requests.every((r) => r.body.temperature === 0.2 && r.body.reasoning_effort === undefined)).toBe(true);
  });

  it('prices by model name wherever it is served; a hosted model without a price is unknown, a local one free', () => {
    expect(priceCall(DEFAULT_PRICES, 'openai/gpt-5', 1e6, 1e6, { local: false })).toEqual({ cost_usd: 11.25, cost_unknown: false });
    expect(priceCall(DEFAULT_PRICES, 'gpt-5-2025-08-07', 1e6, 0, { local: true })).toEqual({ cost_usd: 1.25, cost_unknown: false });
    expect(priceCall(DEFAULT_PRICES, 'gpt-5-nano', 1e6, 1e6, { local: false }).cost_usd).toBe(0.45);
    expect(priceCall(DEFAULT_PRICES, 'mystery-model', 1e6, 1e6, { local: false })).toEqual({ cost_usd: 0, cost_unknown: true });
    expect(priceCall(DEFAULT_PRICES, 'llama3.1:8b', 1e6, 1e6, { local: true })).toEqual({ cost_usd: 0, cost_unknown: false });
    expect(isLocalServer('http://127.0.0.1:11434/v1')).toBe(true);
    expect(isLocalServer('http://ollama.lan:11434/v1')).toBe(true);
    expect(isLocalServer('http://192.168.1.20:8000/v1')).toBe(true);
    expect(isLocalServer('https://openrouter.ai/api/v1')).toBe(false);
    expect(isLocalServer(undefined)).toBe(false);
  });

  it('knows each family\'s parameters', () => {
    expect(capabilitiesOf('gpt-5-mini')).toEqual({ reasoning: true, efforts: ['minimal', 'low', 'medium', 'high'] });
    expect(capabilitiesOf('gpt-5.1')).toEqual({ reasoning: true, efforts: ['none', 'low', 'medium', 'high'] });
    expect(capabilitiesOf('gpt-5-chat-latest').reasoning).toBe(false);
    expect(capabilitiesOf('o4-mini').efforts).toEqual(['low', 'medium', 'high']);
    expect(capabilitiesOf('o1-mini')).toEqual({ reasoning: true, efforts: [] });
    expect(capabilitiesOf('gpt-4o').reasoning).toBe(false);
    expect(capabilitiesOf('llama3.1:8b').reasoning).toBe(false);
    expect(effortFor('gpt-5.1', 'minimal')).toBe('none');
    expect(effortFor('gpt-5', 'none')).toBe('minimal');
    expect(effortFor('o3', 'minimal')).toBe('low');
    expect(effortFor('gpt-4o', 'high')).toBeUndefined();
  });

  it('a hosted model the price table does not know is flagged cost_unknown, never a silent $0', async () => {
    const server = await startFakeOpenAI((r) => ({ content: defaultAnswer(r.role) }));
    closers.push(() => server.close());
    // The same local server, reached by a name that is not loopback: it counts as hosted.
    const hostedUrl = server.baseURL.replace('127.0.0.1', 'localhost.localdomain.test');
    const config: Config = testConfig('llm-desk', { OPENAI_BASE_URL: hostedUrl, OPENAI_API_KEY: 'k' });
    prefixes.push(config.QUEUE_PREFIX);
    const ctx: CycleContext = { config, redis, logger: silentLogger, signal: new AbortController().signal, jobId: 'unpriced', attempt: 1, reportProgress: async () => {}, now };
    const { default: OpenAI } = await import('openai');
    const client = new OpenAI({ apiKey: 'k', baseURL: server.baseURL, maxRetries: 0 });
    const out = await runLlmAnalysis({ agent: 'x', snapshot, profile: agentProfileSchema.parse({ engine: 'llm', quick_model: 'acme-large', deep_model: 'acme-large', analysts: ['market'] }), options: {} }, ctx, { client, research: researchSourcesFor('simulated', { SOCIAL_SOURCE: 'none' }) });
    expect(out.usage.cost_unknown).toBe(true);
    expect(out.calls.every((c) => c.cost_unknown === true && c.cost_usd === 0)).toBe(true);
  });
});

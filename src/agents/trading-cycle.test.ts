import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { agentProfileSchema, cycleJobDataSchema, PermanentCycleError, type Config } from '../core/index.ts';
import { defaultAnswer, startFakeOpenAI } from '../../test/support/fake-openai-server.ts';
import { deletePrefix, silentLogger, testConfig, TEST_REDIS_URL } from '../../test/support/redis-test-env.ts';
import { getPortfolio, getScorecard, runTradingCycle, type CycleContext } from './index.ts';

const redis = new Redis(TEST_REDIS_URL);
const configs: Config[] = [];
afterAll(async () => {
  redis.disconnect();
  await Promise.all(configs.map((c) => deletePrefix(c.QUEUE_PREFIX)));
});

function ctxFor(config: Config, jobId: string): CycleContext & { stages: string[] } {
  const stages: string[] = [];
  return { config, redis, logger: silentLogger, signal: new AbortController().signal, jobId, attempt: 1, stages, reportProgress: async (s) => void stages.push(s) };
}
const job = (over: Record<string, unknown> = {}) =>
  cycleJobDataSchema.parse({ agent: 'desk', ticker: 'AAPL', trigger: 'api', date: '2026-11-20', profile: agentProfileSchema.parse({}), ...over });

describe('the trading cycle (simulated data, real Redis)', () => {
  const config = testConfig('cycle');
  configs.push(config);

  it('fetches, analyses with the quant engine, fills the paper portfolio once per job id and records the decision', async () => {
    const ctx = ctxFor(config, 'job-a');
    const result = await runTradingCycle(job(), ctx);
    expect(result).toMatchObject({ ticker: 'AAPL', date: '2026-11-20', agent: 'desk', engine: 'quant', data_source: 'simulated', dry_run: true });
    expect(['BUY', 'SELL', 'HOLD']).toContain(result.decision);
    expect(result.indicators.sma200).not.toBeNull();
    expect(result.price).toBeGreaterThan(0);
    expect(ctx.stages).toEqual(['fetching data', 'analysts', 'debate', 'trader', 'risk', 'decision', 'decision']);
    const again = await runTradingCycle(job(), ctxFor(config, 'job-a'));
    expect(again.fill).toEqual(result.fill);
    const portfolio = await getPortfolio(redis, config.QUEUE_PREFIX, 'desk');
    expect(portfolio!.trades.length).toBe(result.fill ? 1 : 0);
    const scorecard = await getScorecard(redis, config.QUEUE_PREFIX, 'desk');
    expect(scorecard!.decisions).toBe(1);
  });

  it('fills a BUY into the ledger and scores earlier decisions from later bars', async () => {
    const c = testConfig('cycle-score');
    configs.push(c);
    // Decide on an old date, then run a later cycle whose daily bars cover +5 trading days.
    await runTradingCycle(job({ ticker: 'MSFT', date: '2026-10-01' }), ctxFor(c, 'old'));
    await runTradingCycle(job({ ticker: 'MSFT', date: '2026-11-20' }), ctxFor(c, 'new'));
    const card = (await getScorecard(redis, c.QUEUE_PREFIX, 'desk'))!;
    expect(card.decisions).toBe(2);
    const scoredOld = card.by_model[0]!;
    expect(scoredOld.decisions).toBe(2);
    const avg = card.avg_forward_return['5d'];
    expect(Object.values(avg).some((v) => v !== null)).toBe(true);
  });

  it('refuses live trading with a clear error', async () => {
    await expect(runTradingCycle(job({ dry_run: false }), ctxFor(config, 'live'))).rejects.toThrow(PermanentCycleError);
    await expect(runTradingCycle(job({ dry_run: false }), ctxFor(config, 'live'))).rejects.toThrow(/no broker adapter/);
  });

  it('falls back to quant, saying so, when the llm engine has no server configured', async () => {
    const result = await runTradingCycle(job({ profile: agentProfileSchema.parse({ engine: 'llm' }) }), ctxFor(config, 'llm-none'));
    expect(result.engine).toBe('quant');
    expect(result.reports.final).toMatch(/no OPENAI_API_KEY or OPENAI_BASE_URL/);
  });

  it('runs the llm engine end to end against a local OpenAI-compatible server', async () => {
    const server = await startFakeOpenAI((r) => ({ content: defaultAnswer(r.role, 'Sell') }));
    try {
      const c = testConfig('cycle-llm', { OPENAI_BASE_URL: server.baseURL });
      configs.push(c);
      const result = await runTradingCycle(job({ profile: agentProfileSchema.parse({ engine: 'llm', debate_rounds: 1, risk_rounds: 1 }) }), ctxFor(c, 'llm-1'));
      expect(result).toMatchObject({ engine: 'llm', decision: 'SELL', rating: 'Sell' });
      expect(result.models.sort()).toEqual(['gpt-4o', 'gpt-4o-mini']);
      expect(result.usage.calls).toBeGreaterThan(5);
    } finally {
      await server.close();
    }
  });
});

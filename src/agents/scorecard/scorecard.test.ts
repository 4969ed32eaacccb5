import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { deletePrefix, TEST_REDIS_URL, uniquePrefix } from '../../../test/support/redis-test-env.ts';
import type { Bar } from '../analysis-types.ts';
import type { MarketDataProvider } from '../data/market-data-provider.ts';
import { recordDecision, type ScoredDecision } from './decision-log.ts';
import { scoreTickerFromBars, updateForwardReturns } from './forward-returns.ts';
import { getScorecard } from './scorecard.ts';

const redis = new Redis(TEST_REDIS_URL);
const prefixes: string[] = [];
const fresh = () => {
  const p = uniquePrefix('scorecard');
  prefixes.push(p);
  return p;
};
afterAll(async () => {
  redis.disconnect();
  await Promise.all(prefixes.map((p) => deletePrefix(p)));
});

// Sessions of November 2026 (the 26th is Thanksgiving) with closes 100, 101, 102, …
const SESSIONS = ['2026-11-09', '2026-11-10', '2026-11-11', '2026-11-12', '2026-11-13', '2026-11-16', '2026-11-17', '2026-11-18', '2026-11-19', '2026-11-20', '2026-11-23', '2026-11-24', '2026-11-25', '2026-11-27'];
const bars = (closes = SESSIONS.map((_, i) => 100 + i)): Bar[] => SESSIONS.map((d, i) => ({ t: `${d}T14:30:00.000Z`, o: closes[i]!, h: closes[i]!, l: closes[i]!, c: closes[i]!, v: 1 }));
const afterClose = new Date('2026-11-28T12:00:00Z');

let n = 0;
const decision = (over: Partial<ScoredDecision>) => ({
  job_id: `job-${n++}`,
  agent: 'desk',
  ticker: 'SPY',
  date: '2026-11-10',
  decision: 'BUY' as const,
  price: 101,
  models: [] as string[],
  cost_usd: 0,
  cycle_ms: 100,
  at: '2026-11-10T15:00:00Z',
  data_source: 'yahoo',
  ...over,
});
const entries = async (prefix: string, agent = 'desk') =>
  Object.values(await redis.hgetall(`${prefix}:tl:scorecard:${agent}`)).map((r) => JSON.parse(r) as ScoredDecision);

describe('scorecard (real Redis, crafted bars)', () => {
  it('scores +1 and +5 sessions from the decision\'s own session, skipping weekends and holidays', async () => {
    const prefix = fresh();
    await recordDecision(redis, prefix, decision({ job_id: 'tue', date: '2026-11-10', price: 101 }));
    // Decided on a Saturday: its base is Friday's session, +1 is Monday.
    await recordDecision(redis, prefix, decision({ job_id: 'sat', date: '2026-11-14', price: 104 }));
    // Decided the day before Thanksgiving: +1 is the Friday after.
    await recordDecision(redis, prefix, decision({ job_id: 'wed', date: '2026-11-25', price: 112 }));
    expect(await scoreTickerFromBars(redis, prefix, 'SPY', { daily: bars(), source: 'yahoo' }, afterClose)).toBe(3);
    const byId = Object.fromEntries((await entries(prefix)).map((e) => [e.job_id, e]));
    expect(byId.tue).toMatchObject({ return_1d: 0.009901, return_5d: 0.049505 }); // 102/101, 106/101
    expect(byId.sat).toMatchObject({ return_1d: 0.009615, return_5d: 0.048077 }); // 105/104, 109/104
    expect(byId.wed).toMatchObject({ return_1d: 0.008929, return_5d: null }); // 113/112; +5 not yet
    expect(await redis.smembers(`${prefix}:tl:scorecard:pending:SPY`)).toEqual(['desk|wed']);
  });

  it('never uses a session that has not closed, nor bars from another source', async () => {
    const prefix = fresh();
    await recordDecision(redis, prefix, decision({ job_id: 'a', date: '2026-11-24', price: 111 }));
    await recordDecision(redis, prefix, decision({ job_id: 'sim', date: '2026-11-24', price: 50, data_source: 'simulated' }));
    // Mid-session on the 25th: its forming bar is not a close.
    expect(await scoreTickerFromBars(redis, prefix, 'SPY', { daily: bars(), source: 'yahoo' }, new Date('2026-11-25T17:00:00Z'))).toBe(0);
    expect(await scoreTickerFromBars(redis, prefix, 'SPY', { daily: bars(), source: 'yahoo' }, new Date('2026-11-25T21:30:00Z'))).toBe(1);
    const byId = Object.fromEntries((await entries(prefix)).map((e) => [e.job_id, e]));
    expect(byId.a!.return_1d).toBe(Math.round((112 / 111 - 1) * 1e6) / 1e6);
    expect(byId.sim!.return_1d).toBeNull();
    // Nothing new since: the next pass is skipped without reading entries.
    expect(await scoreTickerFromBars(redis, prefix, 'SPY', { daily: bars(), source: 'yahoo' }, new Date('2026-11-25T22:00:00Z'))).toBe(0);
  });

  it('leaves a decision with an unpriced model out of the cost average', async () => {
    const prefix = fresh();
    await recordDecision(redis, prefix, decision({ job_id: 'p1', cost_usd: 0.04 }));
    await recordDecision(redis, prefix, decision({ job_id: 'u1', cost_usd: 0, cost_unknown: true }));
    expect((await getScorecard(redis, prefix, 'desk'))!.avg_cost_usd).toBe(0.04);
  });

  it('records once per job id and sums hit rate, forward returns, cost and time per model', async () => {
    const prefix = fresh();
    const up = bars(); // rising closes
    expect(await recordDecision(redis, prefix, decision({ job_id: 'b1', decision: 'BUY', price: 101, models: ['gpt-4o', 'gpt-4o-mini'], cost_usd: 0.02, cycle_ms: 3000 }))).toBe(true);
    expect(await recordDecision(redis, prefix, decision({ job_id: 'b1', decision: 'SELL' }))).toBe(false);
    await recordDecision(redis, prefix, decision({ job_id: 's1', decision: 'SELL', price: 101, models: ['gpt-4o-mini', 'gpt-4o'], cost_usd: 0.04, cycle_ms: 5000 }));
    await recordDecision(redis, prefix, decision({ job_id: 's2', decision: 'SELL', price: 120, cycle_ms: 10 })); // quant; a fall from 120
    await recordDecision(redis, prefix, decision({ job_id: 'h1', decision: 'HOLD', price: 101, cycle_ms: 20 }));
    await scoreTickerFromBars(redis, prefix, 'SPY', { daily: up, source: 'yahoo' }, afterClose);
    const card = (await getScorecard(redis, prefix, 'desk'))!;
    expect(card).toMatchObject({ agent: 'desk', decisions: 4, scored: 3, hit_rate: 0.667, hit_rate_1d: 0.667 });
    expect(card.avg_forward_return['5d'].BUY).toBe(0.049505);
    expect(card.avg_forward_return['5d'].SELL).toBe(Math.round(((106 / 101 - 1 + (106 / 120 - 1)) / 2) * 1e6) / 1e6);
    expect(card.avg_forward_return['1d'].HOLD).toBe(0.009901);
    expect(card.avg_cost_usd).toBe(0.015);
    expect(card.avg_cycle_ms).toBe(2007.5);
    expect(card.by_model.map((m) => [m.model, m.decisions, m.hit_rate])).toEqual([
      ['gpt-4o+gpt-4o-mini', 2, 0.5],
      ['quant', 2, 1],
    ]);
    expect(await getScorecard(redis, prefix, 'nobody')).toBeNull();
  });

  it('the daily update fetches bars for every ticker still waiting, and reports the ones it could not fetch', async () => {
    const prefix = fresh();
    await recordDecision(redis, prefix, decision({ job_id: 'x', ticker: 'SPY', date: '2026-11-10', price: 101 }));
    await recordDecision(redis, prefix, decision({ job_id: 'y', agent: 'other', ticker: 'QQQ', date: '2026-11-12', decision: 'SELL', price: 100 }));
    await recordDecision(redis, prefix, decision({ job_id: 'z', ticker: 'GONE', date: '2026-11-12' }));
    const asked: string[] = [];
    const provider: MarketDataProvider = {
      name: 'yahoo',
      async getDailyBars(ticker, { to }) {
        asked.push(`${ticker}@${to}`);
        if (ticker === 'GONE') throw new Error('unknown ticker GONE');
        return bars();
      },
      getIntradayBars: async () => null,
      getQuote: async () => null,
      getFundamentals: async () => null,
      getNews: async () => null,
    };
    const result = await updateForwardReturns(redis, prefix, { provider, now: () => afterClose });
    expect(asked.sort()).toEqual(['GONE@2026-11-28', 'QQQ@2026-11-28', 'SPY@2026-11-28']);
    expect(result).toEqual({ tickers: 3, updated: 2, failed: [{ ticker: 'GONE', error: 'unknown ticker GONE' }] });
    expect((await getScorecard(redis, prefix, 'other'))!.hit_rate).toBe(0); // a SELL before a rise
    // Fully scored tickers leave the pending list; the next pass only retries the failed one.
    asked.length = 0;
    await updateForwardReturns(redis, prefix, { provider, now: () => afterClose });
    expect(asked).toEqual(['GONE@2026-11-28']);
  });
});

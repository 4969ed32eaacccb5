import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { agentProfileSchema, CycleAbortedError, cycleJobDataSchema, cycleResultSchema, PermanentCycleError, productKeys, readCounters, type Config } from '../core/index.ts';
import { defaultAnswer, startFakeOpenAI } from '../../test/support/fake-openai-server.ts';
import { startFakeYahoo } from '../../test/support/fake-yahoo-server.ts';
import { deletePrefix, silentLogger, testConfig, TEST_REDIS_URL } from '../../test/support/redis-test-env.ts';
import { createSimulatedProvider, getPortfolio, getScorecard, PAST_DATE_NOTE, resetMarketDataFallback, runTradingCycle, updateForwardReturns, type CycleContext, type MarketDataProvider } from './index.ts';

const redis = new Redis(TEST_REDIS_URL);
const configs: Config[] = [];
const yahoo = await startFakeYahoo({ closes: { AAPL: Array.from({ length: 260 }, (_, i) => 150 + i * 0.2 + Math.sin(i) * 2) } });
afterAll(async () => {
  redis.disconnect();
  await yahoo.close();
  await Promise.all(configs.map((c) => deletePrefix(c.QUEUE_PREFIX)));
});
const config = (name: string, env: Record<string, string> = {}) => {
  const c = testConfig(name, env);
  configs.push(c);
  return c;
};

function ctxFor(c: Config, jobId: string, over: Partial<CycleContext> = {}): CycleContext & { stages: string[] } {
  const stages: string[] = [];
  return { config: c, redis, logger: silentLogger, signal: new AbortController().signal, jobId, attempt: 1, stages, reportProgress: async (s) => void stages.push(s), ...over };
}
const job = (over: Record<string, unknown> = {}) =>
  cycleJobDataSchema.parse({ agent: 'desk', ticker: 'AAPL', trigger: 'api', date: '2026-11-20', profile: agentProfileSchema.parse({}), ...over });

describe('the trading cycle (simulated data, real Redis)', () => {
  const c = config('cycle');

  it('analyses a past session as of its close, and keeps it out of the live ledger and scorecard', async () => {
    const ctx = ctxFor(c, 'job-past');
    const result = await runTradingCycle(job(), ctx);
    expect(cycleResultSchema.parse(result)).toEqual(result);
    expect(result).toMatchObject({ ticker: 'AAPL', date: '2026-11-20', agent: 'desk', engine: 'quant', data_source: 'simulated', dry_run: true, models: [], fill: null });
    expect(result.fill_note).toContain(PAST_DATE_NOTE);
    expect(result.usage.total_tokens).toBe(0);
    expect(result.indicators.sma200).not.toBeNull();
    // Point in time: the last bar seen is the date's last 5-minute bar (15:55), its close is the price,
    // struck at the session's close (16:00 New York), five minutes after the bar's opening stamp.
    const intraday = (await createSimulatedProvider().getIntradayBars('AAPL', { date: '2026-11-20' }))!;
    expect(intraday.at(-1)!.t).toBe('2026-11-20T20:55:00.000Z');
    expect(result.as_of).toBe('2026-11-20T21:00:00.000Z');
    expect(result.price).toBe(intraday.at(-1)!.c);
    expect(ctx.stages).toEqual(['fetching data', 'analysts', 'debate', 'trader', 'risk', 'decision', 'decision']);
    expect(await getPortfolio(redis, c.QUEUE_PREFIX, 'desk')).toBeNull();
    expect(await getScorecard(redis, c.QUEUE_PREFIX, 'desk')).toBeNull();
  });

  it('a live session fills the paper portfolio once per job id and records the decision once', async () => {
    const l = config('cycle-live');
    const now = new Date('2026-11-20T20:30:00Z');
    const result = await runTradingCycle(job(), ctxFor(l, 'job-a', { now: () => now }));
    expect(result.fill === null ? result.fill_note : 'filled').toBeTruthy();
    const again = await runTradingCycle(job(), ctxFor(l, 'job-a', { now: () => now }));
    expect(again.fill).toEqual(result.fill);
    const portfolio = await getPortfolio(redis, l.QUEUE_PREFIX, 'desk');
    expect(portfolio!.trades.length).toBe(result.fill ? 1 : 0);
    expect(portfolio!.equity_curve.length).toBe(1);
    const scorecard = await getScorecard(redis, l.QUEUE_PREFIX, 'desk');
    expect(scorecard!.decisions).toBe(1);
  });

  it('decides live at the latest price: mid-session, the last 5-minute close', async () => {
    const now = new Date('2026-11-20T17:02:00Z');
    const result = await runTradingCycle(job({ ticker: 'NVDA', date: undefined }), ctxFor(c, 'live', { now: () => now }));
    const intraday = (await createSimulatedProvider({ now: () => now }).getIntradayBars('NVDA', { date: '2026-11-20' }))!;
    expect(result.date).toBe('2026-11-20');
    expect(result.price).toBe(intraday.at(-1)!.c);
    expect(result.started_at).toBe(now.toISOString());
  });

  it('fills a BUY into the ledger and scores earlier decisions from later bars', async () => {
    const s = config('cycle-score');
    // Decide on an old date, then run a later cycle whose daily bars cover +5 sessions.
    // Each decided live on its own day (a past-date analysis is never scored).
    await runTradingCycle(job({ ticker: 'MSFT', date: '2026-10-01' }), ctxFor(s, 'old', { now: () => new Date('2026-10-01T19:00:00Z') }));
    await runTradingCycle(job({ ticker: 'MSFT', date: '2026-11-20' }), ctxFor(s, 'new', { now: () => new Date('2026-11-20T20:30:00Z') }));
    const card = (await getScorecard(redis, s.QUEUE_PREFIX, 'desk'))!;
    expect(card.decisions).toBe(2);
    expect(card.by_model).toHaveLength(1);
    const [old] = Object.values(await redis.hgetall(`${s.QUEUE_PREFIX}:tl:scorecard:desk`)).map((r) => JSON.parse(r)).filter((e) => e.job_id === 'old');
    const bars = await createSimulatedProvider().getDailyBars('MSFT', { to: '2026-10-08', lookbackDays: 6 });
    expect(old.return_5d).toBe(Math.round((bars.at(-1)!.c / old.price - 1) * 1e6) / 1e6); // Oct 1 + 5 sessions = Oct 8
  });

  it('a cycle run before the open decides on the previous close, and its forward returns count from that session', async () => {
    const p = config('cycle-pre-open');
    // Friday 2026-11-20 at 08:00 New York: no bar of the day yet, so the price is Thursday's close.
    const early = new Date('2026-11-20T13:00:00Z');
    const result = await runTradingCycle(job({ ticker: 'AMD', date: undefined }), ctxFor(p, 'pre-open', { now: () => early }));
    const sim = createSimulatedProvider({ now: () => new Date('2026-12-01T12:00:00Z') });
    const closes = new Map((await sim.getDailyBars('AMD', { to: '2026-11-30', lookbackDays: 10 })).map((b) => [b.t.slice(0, 10), b.c]));
    expect(result).toMatchObject({ date: '2026-11-20', price: closes.get('2026-11-19'), as_of: '2026-11-19T21:00:00.000Z' });
    await updateForwardReturns(redis, p.QUEUE_PREFIX, { provider: sim, now: () => new Date('2026-12-01T12:00:00Z') });
    const [entry] = Object.values(await redis.hgetall(`${p.QUEUE_PREFIX}:tl:scorecard:desk`)).map((r) => JSON.parse(r) as { date: string; price_date: string; return_1d: number; return_5d: number });
    expect(entry).toMatchObject({ date: '2026-11-20', price_date: '2026-11-19' });
    const ret = (day: string) => Math.round((closes.get(day)! / result.price! - 1) * 1e6) / 1e6;
    // +1 is Friday the 20th (the session after the price's), +5 the 27th (Thanksgiving on the 26th).
    expect(entry!.return_1d).toBe(ret('2026-11-20'));
    expect(entry!.return_5d).toBe(ret('2026-11-27'));
  });

  it('refuses live trading, invalid jobs and future dates for good', async () => {
    await expect(runTradingCycle(job({ dry_run: false }), ctxFor(c, 'live-trade'))).rejects.toThrow(PermanentCycleError);
    await expect(runTradingCycle(job({ dry_run: false }), ctxFor(c, 'live-trade'))).rejects.toThrow(/no broker adapter/);
    await expect(runTradingCycle({ ...job(), ticker: 'not a ticker!' }, ctxFor(c, 'bad'))).rejects.toThrow(/invalid cycle job: ticker/);
    await expect(runTradingCycle(job({ date: '2026-11-30' }), ctxFor(c, 'future', { now: () => new Date('2026-11-23T15:00:00Z') }))).rejects.toThrow(/in the future/);
  });

  it('stops with CycleAbortedError when its signal is aborted, and fills nothing', async () => {
    const before = new AbortController();
    before.abort('cancelled by user');
    await expect(runTradingCycle(job(), ctxFor(c, 'abort-1', { signal: before.signal }))).rejects.toThrow(CycleAbortedError);
    // Aborted while the data source is slow to answer.
    const during = new AbortController();
    const slow: MarketDataProvider = {
      ...createSimulatedProvider(),
      name: 'slow',
      getDailyBars: (_t, o) => new Promise((_, reject) => o.signal!.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')))),
    };
    setTimeout(() => during.abort('soft time limit'), 20);
    await expect(runTradingCycle(job(), ctxFor(c, 'abort-2', { signal: during.signal }), { provider: slow })).rejects.toMatchObject({ name: 'CycleAbortedError', message: 'soft time limit' });
    expect(await redis.exists(`${c.QUEUE_PREFIX}:tl:portfolio:desk:applied:abort-2`)).toBe(0);
  });

  it('falls back to quant, saying so, when the llm engine has no server configured', async () => {
    const result = await runTradingCycle(job({ profile: agentProfileSchema.parse({ engine: 'llm' }) }), ctxFor(c, 'llm-none'));
    expect(result.engine).toBe('quant');
    expect(result.reports.final).toMatch(/no OPENAI_API_KEY or OPENAI_BASE_URL/);
  });

  it('runs the llm engine end to end against a local OpenAI-compatible server', async () => {
    const server = await startFakeOpenAI((r) => ({ content: defaultAnswer(r.role, 'Sell') }));
    try {
      const l = config('cycle-llm', { OPENAI_BASE_URL: server.baseURL });
      const result = await runTradingCycle(job({ profile: agentProfileSchema.parse({ engine: 'llm', debate_rounds: 1, risk_rounds: 1 }) }), ctxFor(l, 'llm-1', { now: () => new Date('2026-11-20T20:30:00Z') }));
      expect(result).toMatchObject({ engine: 'llm', decision: 'SELL', rating: 'Sell' });
      expect(result.models.sort()).toEqual(['gpt-4o', 'gpt-4o-mini']);
      expect(result.usage.calls).toBeGreaterThan(5);
      expect((await getScorecard(redis, l.QUEUE_PREFIX, 'desk'))!.by_model[0]!.model).toBe('gpt-4o+gpt-4o-mini');
    } finally {
      await server.close();
    }
  });
});

describe('the trading cycle on real sources (local servers)', () => {
  it('reads Yahoo through the cache, spending data call slots only on real requests', async () => {
    const y = config('cycle-yahoo', { MARKET_DATA: 'yahoo' });
    const slots: string[] = [];
    const acquireCallSlot = async (kind: 'llm' | 'data') => void slots.push(kind);
    const deps = { fetch: yahoo.fetch };
    {
      const first = await runTradingCycle(job({ date: '2026-11-19' }), ctxFor(y, 'y1', { acquireCallSlot }), deps);
      expect(first.data_source).toBe('yahoo');
      expect(first.price).toBeCloseTo(150 + 259 * 0.2 + Math.sin(259) * 2, 6);
      // Daily and intraday bars, fundamentals and news asked as of the date: Yahoo's ratios are today's, so a
      // past date has none (look-ahead), and says so.
      expect(slots.length).toBeGreaterThanOrEqual(2);
      expect(first.reports.final).toMatch(/Unavailable as of 2026-11-19: .*fundamentals/);
      expect(new Set(slots)).toEqual(new Set(['data']));
      const spent = slots.length;
      const chartHits = yahoo.hits.filter((h) => h.startsWith('/v8/')).length;
      await runTradingCycle(job({ date: '2026-11-19', agent: 'desk-2' }), ctxFor(y, 'y2', { acquireCallSlot }), deps);
      expect(slots.length).toBe(spent);
      expect(yahoo.hits.filter((h) => h.startsWith('/v8/')).length).toBe(chartHits);
      await expect(runTradingCycle(job({ ticker: 'NOPE', date: '2026-11-19' }), ctxFor(y, 'y3'), deps)).rejects.toThrow(PermanentCycleError);
    }
  });

  it('MARKET_DATA=auto with Yahoo failing its second call: one source for the whole cycle, said truthfully', async () => {
    resetMarketDataFallback();
    const yahoo = await startFakeYahoo({ closes: { AAPL: Array.from({ length: 260 }, (_, i) => 150 + i * 0.2) } });
    const a = config('cycle-auto-2nd', { MARKET_DATA: 'auto' });
    try {
      // The first data request (daily bars) is answered; every later one fails as a dead network would.
      let dataCalls = 0;
      const flaky: typeof fetch = (input, init) => {
        const url = String(input instanceof Request ? input.url : input);
        if (/\/v8\/|\/v7\/|\/v10\/|\/v1\/finance/.test(url) && ++dataCalls >= 2) return Promise.reject(new TypeError('fetch failed: ECONNRESET'));
        return yahoo.fetch(input, init);
      };
      const result = await runTradingCycle(job({ date: '2026-11-19' }), ctxFor(a, 'auto-2nd'), { fetch: flaky });
      expect(result.data_source).toBe('yahoo');
      expect(result.price).toBeCloseTo(150 + 259 * 0.2, 6); // Yahoo's close, never a simulated one
      expect(result.reports.final).not.toMatch(/SIMULATED/);
      expect(result.reports.final).toMatch(/Unavailable as of 2026-11-19: intraday/);
      const counters = await readCounters(redis, productKeys(a.QUEUE_PREFIX));
      expect(counters.find((c) => c.name === 'data_fallback_total')).toBeUndefined();

      // Yahoo failing its first call: the whole cycle reads simulated data, says so and counts it;
      // nothing simulated is stored under Yahoo's cache keys.
      resetMarketDataFallback();
      const b = config('cycle-auto-1st', { MARKET_DATA: 'auto' });
      const dead: typeof fetch = () => Promise.reject(new TypeError('fetch failed: ENOTFOUND'));
      const sim = await runTradingCycle(job({ ticker: 'MSFT', date: '2026-11-19' }), ctxFor(b, 'auto-1st'), { fetch: dead });
      expect(sim.data_source).toBe('simulated');
      expect(sim.reports.final).toMatch(/SIMULATED/);
      const simBars = await createSimulatedProvider().getDailyBars('MSFT', { to: '2026-11-19', lookbackDays: 1 });
      expect(sim.price).toBe((await createSimulatedProvider().getIntradayBars('MSFT', { date: '2026-11-19' }))!.at(-1)?.c ?? simBars[0]!.c);
      const fallbacks = (await readCounters(redis, productKeys(b.QUEUE_PREFIX))).find((c) => c.name === 'data_fallback_total');
      expect(fallbacks?.value).toBe(1);
      // Only Yahoo's own failure markers (outage, shared fetch failure): no data under its keys.
      const yahooData = (await redis.keys(`${b.QUEUE_PREFIX}:*cache:yahoo*`)).filter((k) => !k.endsWith(':outage') && !k.endsWith(':failed'));
      expect(yahooData).toEqual([]);
      expect(await redis.keys(`${b.QUEUE_PREFIX}:*cache:simulated*`)).toEqual([]);
    } finally {
      resetMarketDataFallback();
      await yahoo.close();
    }
  });

  it('without intraday bars (their fetch fails) the price is the daily close, as of that session\'s close', async () => {
    const y = config('cycle-daily-as-of', { MARKET_DATA: 'yahoo' });
    const noIntraday: typeof fetch = (input, init) => {
      const url = String(input instanceof Request ? input.url : input);
      if (url.includes('/v8/') && url.includes('interval=5m')) return Promise.reject(new TypeError('fetch failed: ECONNRESET'));
      return yahoo.fetch(input, init);
    };
    // A past session: the close of Thursday 2026-11-19 (16:00 New York), whatever the bar's stamp or the fetch time.
    const past = await runTradingCycle(job({ date: '2026-11-19' }), ctxFor(y, 'daily-as-of-1'), { fetch: noIntraday });
    expect(past.reports.final).toMatch(/Unavailable as of 2026-11-19: intraday/);
    expect(past.price).toBeCloseTo(150 + 259 * 0.2 + Math.sin(259) * 2, 6);
    expect(past.as_of).toBe('2026-11-19T21:00:00.000Z');
    // Mid-session today: the forming bar's close is a trade between the open and the read, never claimed as "now".
    const now = new Date('2026-11-20T17:00:00Z');
    const live = await runTradingCycle(job({ date: '2026-11-20', agent: 'desk-live' }), ctxFor(y, 'daily-as-of-2', { now: () => now }), { fetch: noIntraday });
    expect(Date.parse(live.as_of!)).toBeGreaterThanOrEqual(Date.parse('2026-11-20T14:30:00.000Z'));
    expect(Date.parse(live.as_of!)).toBeLessThan(now.getTime());
  });

  it('MARKET_DATA=auto says in the verdict when it fell back to simulated data', async () => {
    resetMarketDataFallback();
    const a = config('cycle-auto', { MARKET_DATA: 'auto' });
    const dead: typeof fetch = () => Promise.reject(new TypeError('fetch failed: ENOTFOUND'));
    try {
      const result = await runTradingCycle(job(), ctxFor(a, 'auto-1'), { fetch: dead });
      expect(result.data_source).toBe('simulated');
      expect(result.reports.final).toMatch(/SIMULATED/);
    } finally {
      resetMarketDataFallback();
    }
  });
});

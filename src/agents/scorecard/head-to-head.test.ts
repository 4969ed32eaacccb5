import { describe, expect, it } from 'vitest';
import type { ScoredDecision } from './decision-log.ts';
import { headToHead } from './head-to-head.ts';

let n = 0;
const d = (agent: string, ticker: string, session: string, decision: ScoredDecision['decision'], r5: number | null, extra: Partial<ScoredDecision> = {}): ScoredDecision => ({
  job_id: `j${n++}`, agent, ticker, date: session, price_date: session, decision, price: 100, models: [], cost_usd: 0, cycle_ms: 10,
  at: `${session}T15:00:00.000Z`, data_source: 'yahoo', return_1d: null, return_5d: r5, ...extra,
});

describe('head to head of two agents', () => {
  it('pairs the points both decided, counts agreement and the confusion matrix, and judges disagreements by the forward return', () => {
    const a = [d('big', 'NVDA', '2026-11-02', 'BUY', 0.04), d('big', 'NVDA', '2026-11-03', 'SELL', 0.02), d('big', 'AAPL', '2026-11-02', 'HOLD', -0.01), d('big', 'TSLA', '2026-11-02', 'BUY', 0.1)];
    const b = [d('local', 'NVDA', '2026-11-02', 'BUY', 0.04), d('local', 'NVDA', '2026-11-03', 'BUY', 0.02), d('local', 'AAPL', '2026-11-02', 'SELL', -0.01)];
    const h = headToHead('big', a, 'local', b);
    expect(h.shared).toBe(3); // TSLA was decided by one agent only
    expect(h.agreement_rate).toBe(0.3333);
    expect(h.confusion.BUY.BUY).toBe(1);
    expect(h.confusion.SELL.BUY).toBe(1);
    expect(h.confusion.HOLD.SELL).toBe(1);
    // NVDA 11-03 rose: local's BUY was right; AAPL fell: local's SELL was right, big's HOLD is never right.
    expect(h.disagreements).toEqual({ scored: 2, a_right: 0, b_right: 2, neither: 0 });
    expect(h.a).toMatchObject({ agent: 'big', decisions: 4, scored: 2, hit_rate: 0.5 });
    expect(h.b).toMatchObject({ agent: 'local', decisions: 3, scored: 3, hit_rate: 1 });
    // Following big: +4 % then −2 % (a SELL loses when the price rises).
    expect(h.a.avg_call_return_5d).toBeCloseTo(0.01, 6);
    expect(h.b.avg_call_return_5d).toBeCloseTo((0.04 + 0.02 + 0.01) / 3, 6);
  });

  it('never pairs decisions on different data sources, and takes the last decision of a session', () => {
    const a = [d('x', 'SPY', '2026-11-02', 'BUY', 0.01, { at: '2026-11-02T15:00:00.000Z' }), d('x', 'SPY', '2026-11-02', 'SELL', 0.01, { at: '2026-11-02T19:00:00.000Z' })];
    const b = [d('y', 'SPY', '2026-11-02', 'SELL', 0.01), d('y', 'QQQ', '2026-11-02', 'BUY', 0.01, { data_source: 'simulated' })];
    const aOnSim = [d('x', 'QQQ', '2026-11-02', 'BUY', 0.01, { data_source: 'yahoo' })];
    const h = headToHead('x', [...a, ...aOnSim], 'y', b);
    expect(h.shared).toBe(1);
    expect(h.agreement_rate).toBe(1); // x's 19:00 SELL stands for the session
  });

  it('says what a decision cost, counts unknown costs apart and gives no ratio over a free or unknown side', () => {
    const a = [d('gpt', 'SPY', '2026-11-02', 'BUY', null, { cost_usd: 0.3, models: ['gpt-5'] }), d('gpt', 'SPY', '2026-11-03', 'BUY', null, { cost_usd: 0.5, models: ['gpt-5'] })];
    const b = [d('mini', 'SPY', '2026-11-02', 'BUY', null, { cost_usd: 0.1 }), d('mini', 'SPY', '2026-11-03', 'HOLD', null, { cost_usd: 0.1 })];
    const priced = headToHead('gpt', a, 'mini', b);
    expect(priced.a).toMatchObject({ cost_usd: 0.8, cost_unknown: 0, avg_cost_usd: 0.4 });
    expect(priced.cost_ratio).toBe(4);
    expect(priced.disagreements.scored).toBe(0); // no forward return yet
    const free = headToHead('gpt', a, 'local', b.map((e) => ({ ...e, agent: 'local', cost_usd: 0 })));
    expect(free.cost_ratio).toBeNull();
    const unknown = headToHead('gpt', [a[0]!, { ...a[1]!, cost_unknown: true }], 'mini', b);
    expect(unknown.a).toMatchObject({ cost_usd: 0.3, cost_unknown: 1, avg_cost_usd: 0.3 });
    expect(unknown.cost_ratio).toBeNull();
  });

  it('has nothing to compare when the agents never decided the same point', () => {
    const h = headToHead('a', [d('a', 'SPY', '2026-11-02', 'BUY', 0.01)], 'b', [d('b', 'SPY', '2026-11-03', 'BUY', 0.01)]);
    expect(h).toMatchObject({ shared: 0, agreement_rate: null, cost_ratio: null });
    expect(h.a).toMatchObject({ decisions: 1, scored: 0, hit_rate: null, avg_call_return_5d: null, avg_cost_usd: null });
  });
});

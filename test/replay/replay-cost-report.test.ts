import { describe, expect, it } from 'vitest';
import { MarketCalendar } from '../../src/calendar/index.ts';
import { agentProfileSchema, BUILTIN_AGENTS, type Decision } from '../../src/core/index.ts';
import { formatReport } from '../../src/cli/commands/replay.ts';
import { buildReport, comparePair, planReplay, reportCsv, ReplayRequestError, tradingDays, CSV_COLUMNS, type ReplayCycle, type ReplaySpec, type ReplayState } from '../../src/replay/index.ts';

/** What a replay says about a cost it does not fully know: the count of such cycles, never a partial sum as the total. */
const calendar = new MarketCalendar();
const sessions = { closeOf: (d: string) => `${d}T21:00:00.000Z`, between: (from: string, to: string) => tradingDays(calendar, from, to) };
const days = ['2026-01-05', '2026-01-06', '2026-01-07'];
const llm = agentProfileSchema.parse({ engine: 'llm', quick_model: 'gpt-4o-mini', deep_model: 'acme-large' });

function cycle(i: number, profile: string, date: string, extra: Partial<ReplayCycle> = {}): ReplayCycle {
  const decision: Decision = 'HOLD';
  return { i, profile, ticker: 'SPY', date, as_of: null, status: 'completed', decision, rating: null, confidence: 0.5, price: 100 + i, price_as_of: null, data_source: 'simulated', cost_usd: 0.5, cost_unknown: false, tokens: 1000, cycle_ms: 10, job_id: `j${i}`, error: null, recorded_at: new Date(1_000 * i).toISOString(), ...extra };
}
// Profile a's second session used a model without a price: its cost is only known in part.
const cycles = days.flatMap((d, k) => [cycle(2 * k, 'a', d, k === 1 ? { cost_usd: 0.1, cost_unknown: true } : {}), cycle(2 * k + 1, 'b', d, { cost_usd: 0.25 })]);
const spec: ReplaySpec = { id: 'r1', created_at: '', profiles: ['a', 'b'], tickers: ['SPY'], from: days[0]!, to: days[2]!, schedule_id: null, max_cost_usd: null, settings: { a: llm, b: llm }, slots: days.map((date) => ({ date, as_of: null })), total: 6 };
const state: ReplayState = { status: 'done', next: 6, done: 6, failed_cycles: 0, consecutive_failures: 0, cost_usd: 1.85, cost_unknown_cycles: 1, tokens: 6000, started_at: '', finished_at: '', reason: null };
const report = buildReport(spec, state, cycles, sessions, new Date(0));

describe('a replay cost that is not fully known', () => {
  it('the report counts the cycles of unknown cost per profile and per row; the comparison gives no ratio of partial sums', () => {
    const [a, b] = report.profiles;
    expect(a).toMatchObject({ cost_unknown_cycles: 1 });
    expect(a!.cost_usd).toBeCloseTo(1.1, 9);
    expect(a!.rows.map((r) => r.cost_unknown)).toEqual([false, true, false]);
    expect(b).toMatchObject({ cost_unknown_cycles: 0, cost_usd: 0.75 });
    expect(report.comparisons[0]).toMatchObject({ a: 'a', b: 'b', cost_usd: { a: 1.1, b: 0.75 }, cost_unknown_cycles: { a: 1, b: 0 }, cost_ratio: null });
    // Fully known on both sides, the ratio is given.
    expect(comparePair('a', 'b', cycles.filter((c) => !c.cost_unknown)).cost_ratio).toBeCloseTo(1 / 0.75, 4);
  });

  it('the CSV has a cost_unknown column', () => {
    const lines = reportCsv(report).trimEnd().split('\r\n');
    const col = CSV_COLUMNS.indexOf('cost_unknown');
    expect(col).toBe(CSV_COLUMNS.indexOf('cost_usd') + 1);
    expect(lines.slice(1).map((l) => l.split(',')[col])).toEqual(['false', 'true', 'false', 'false', 'false', 'false']);
  });

  it('the CLI table shows a lower bound and how many cycles it leaves out, never the partial sum alone', () => {
    const text = formatReport(report);
    expect(text).toMatch(/^a\s+3\/3\s.*≥ 1\.1000 \(1 cycle unknown\)/m);
    expect(text).toMatch(/^b\s+3\/3\s.*\s0\.7500\s/m);
    expect(text).toContain('a vs b: agreement 100.00% over 3 decisions, cost ratio — (≥ $1.1000 (1 cycle unknown) vs $0.7500)');
  });

  it('max_cost_usd refuses a profile whose hosted model has no price, naming it; without a budget it may run', () => {
    const agents = { ...BUILTIN_AGENTS, desk: llm };
    const ctx = { calendar, now: new Date('2026-03-02T18:00:00Z'), agents, schedules: {}, lacksPrice: (m: string) => m === 'acme-large' };
    const body = { profiles: ['quant', 'desk'], tickers: ['SPY'], from: '2026-02-02', to: '2026-02-06' };
    const err = (() => {
      try {
        planReplay({ ...body, max_cost_usd: 5 }, ctx);
      } catch (e) {
        return e;
      }
    })() as ReplayRequestError;
    expect(err).toBeInstanceOf(ReplayRequestError);
    expect(err.details).toEqual([{ field: 'max_cost_usd', message: 'profile "desk" uses model "acme-large", which has no price on this hosted LLM server, so a budget cannot count its cost: price it with LLM_PRICES, or replay without max_cost_usd' }]);
    expect(planReplay(body, ctx).total).toBe(10);
    expect(planReplay({ ...body, max_cost_usd: 5 }, { ...ctx, lacksPrice: () => false }).max_cost_usd).toBe(5);
  });
});

import { describe, expect, it } from 'vitest';
import type { Bar, MarketSnapshot } from '../analysis-types.ts';
import { computeIndicators } from '../indicators.ts';
import { runQuantAnalysis } from './quant-engine.ts';

function series(closes: number[], range = 0.01): Bar[] {
  return closes.map((c, i) => ({ t: new Date(Date.UTC(2025, 0, 1) + i * 86_400_000).toISOString(), o: c, h: c * (1 + range), l: c * (1 - range), c, v: 1_000_000 }));
}
function snapshot(closes: number[], range = 0.01): MarketSnapshot {
  const daily = series(closes, range);
  return { ticker: 'TEST', date: '2025-12-31', data_source: 'test', as_of: daily.at(-1)?.t ?? '', unavailable: [], daily, intraday: null, quote: null, fundamentals: null, news: null, indicators: computeIndicators(daily) };
}
const wobble = (i: number) => Math.sin(i * 1.7) * 0.6;

describe('quant engine on crafted series', () => {
  it('a steady uptrend is not a SELL (and is a BUY)', () => {
    const r = runQuantAnalysis(snapshot(Array.from({ length: 260 }, (_, i) => 100 + i * 0.4 + wobble(i))));
    expect(r.decision).not.toBe('SELL');
    expect(r.decision).toBe('BUY');
    expect(['Buy', 'Overweight']).toContain(r.rating);
  });

  it('a steady downtrend is not a BUY (and is a SELL)', () => {
    const r = runQuantAnalysis(snapshot(Array.from({ length: 260 }, (_, i) => 220 - i * 0.4 + wobble(i))));
    expect(r.decision).not.toBe('BUY');
    expect(r.decision).toBe('SELL');
  });

  it('flat noise is a HOLD', () => {
    const r = runQuantAnalysis(snapshot(Array.from({ length: 260 }, (_, i) => 100 + Math.sin(i * 0.9) * 1.5)));
    expect(r.decision).toBe('HOLD');
  });

  it('an overbought spike lowers conviction compared with the same trend without it', () => {
    const base = Array.from({ length: 250 }, (_, i) => 100 + i * 0.3 + wobble(i));
    const calm = runQuantAnalysis(snapshot([...base, ...Array.from({ length: 10 }, (_, i) => base.at(-1)! + 0.3 * (i + 1))]));
    const spike = runQuantAnalysis(snapshot([...base, ...Array.from({ length: 10 }, (_, i) => base.at(-1)! * (1 + 0.04 * (i + 1)))]));
    expect(spike.decision).not.toBe('SELL');
    expect(spike.confidence).toBeLessThan(calm.confidence);
    expect(spike.reports.market).toMatch(/overbought/);
  });

  it('high volatility dampens conviction without changing the direction', () => {
    const trend = Array.from({ length: 260 }, (_, i) => 100 + i * 0.4 + wobble(i));
    const calm = runQuantAnalysis(snapshot(trend));
    const wild = runQuantAnalysis(snapshot(trend, 0.06)); // daily ranges of ±6 %: ATR near 12 % of price
    expect(wild.decision).toBe(calm.decision);
    expect(wild.confidence).toBeLessThan(calm.confidence);
    expect(wild.reports.risk).toMatch(/high volatility/);
    expect(calm.reports.risk).toMatch(/normal volatility/);
  });

  it('a crash through the averages turns a former uptrend bearish', () => {
    const up = Array.from({ length: 230 }, (_, i) => 100 + i * 0.3 + wobble(i));
    const crash = Array.from({ length: 30 }, (_, i) => up.at(-1)! * (1 - 0.012 * (i + 1)));
    const r = runQuantAnalysis(snapshot([...up, ...crash]));
    expect(r.decision).not.toBe('BUY');
    expect(r.reports.market).toMatch(/below SMA50/);
  });

  it('explains itself and says what it did not use', () => {
    const r = runQuantAnalysis(snapshot(Array.from({ length: 260 }, (_, i) => 100 + i * 0.2)));
    expect(r.reports.market).toMatch(/SMA50/);
    expect(r.reports.fundamentals).toMatch(/unavailable from test/);
    expect(r.reports.final).toMatch(/confidence/);
    expect(r.usage.total_tokens).toBe(0);
    expect(r.confidence).toBeGreaterThan(0);
    expect(r.confidence).toBeLessThanOrEqual(1);
  });

  it('works with too little history (indicators null) and decides HOLD', () => {
    const r = runQuantAnalysis(snapshot([100, 101, 102]));
    expect(r.decision).toBe('HOLD');
  });
});

describe('indicators from trading-signals', () => {
  it('computes SMA/EMA of a linear series as expected and nulls without enough data', () => {
    const ind = computeIndicators(series(Array.from({ length: 210 }, (_, i) => i + 1)));
    expect(ind.sma50).toBeCloseTo(185.5, 6); // mean of 161..210
    expect(ind.sma200).toBeCloseTo(110.5, 6); // mean of 11..210
    expect(ind.rsi14).toBeGreaterThan(90);
    expect(ind.macd_hist).not.toBeNull();
    expect(ind.bb_middle).toBeCloseTo(200.5, 6);
    expect(ind.atr14).toBeGreaterThan(0);
    expect(ind.vwma20).toBeCloseTo(200.5, 6);
    const short = computeIndicators(series([1, 2, 3]));
    expect(short.sma50).toBeNull();
    expect(short.sma200).toBeNull();
  });
});

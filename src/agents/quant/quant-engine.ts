import type { Decision, Rating } from '../../core/index.ts';
import { ZERO_USAGE } from '../../core/index.ts';
import type { AnalysisOutcome, MarketSnapshot } from '../analysis-types.ts';

export interface QuantSignal {
  name: string;
  /** −2 … +2: negative is bearish. */
  score: number;
  reason: string;
}

const TREND_BAND = 0.01;
const fmt = (n: number | null | undefined, d = 2) => (n === null || n === undefined ? 'n/a' : n.toFixed(d));
const pct = (n: number) => `${(n * 100).toFixed(1)}%`;

/**
 * The transparent rule set. Trend and momentum vote; volatility and regime temper conviction.
 * Every rule is a readable sentence, so a desk can see why the engine said what it said.
 */
export function quantSignals(ind: Record<string, number | null>): QuantSignal[] {
  const out: QuantSignal[] = [];
  const { close, sma50, sma200, ema10, rsi14, macd_hist, bb_upper, bb_lower, sma50_slope20, return20 } = ind;
  // A gap under 1 % is noise, not a trend: it votes 0.
  const side = (a: number, b: number) => (a > b * (1 + TREND_BAND) ? 1 : a < b * (1 - TREND_BAND) ? -1 : 0);
  if (close !== null && close !== undefined && sma50 !== null && sma50 !== undefined) {
    const s = side(close, sma50);
    out.push({ name: 'trend: price vs SMA50', score: s, reason: `close ${fmt(close)} is ${s > 0 ? 'above' : s < 0 ? 'below' : 'at'} SMA50 ${fmt(sma50)}` });
  }
  if (sma50 !== null && sma50 !== undefined && sma200 !== null && sma200 !== undefined) {
    const s = side(sma50, sma200);
    const regime = s > 0 ? 'golden-cross regime' : s < 0 ? 'death-cross regime' : 'no clear regime';
    out.push({ name: 'trend: SMA50 vs SMA200', score: s, reason: `SMA50 ${fmt(sma50)} vs SMA200 ${fmt(sma200)} (${regime})` });
  }
  if (sma50_slope20 !== null && sma50_slope20 !== undefined) {
    const s = sma50_slope20 > 0.01 ? 1 : sma50_slope20 < -0.01 ? -1 : 0;
    out.push({ name: 'trend: SMA50 slope', score: s, reason: `SMA50 moved ${pct(sma50_slope20)} over 20 sessions` });
  }
  if (close !== null && close !== undefined && ema10 !== null && ema10 !== undefined) {
    const s = close > ema10 ? 0.5 : -0.5;
    out.push({ name: 'momentum: price vs EMA10', score: s, reason: `close ${close > ema10 ? 'above' : 'below'} EMA10 ${fmt(ema10)}` });
  }
  if (macd_hist !== null && macd_hist !== undefined) {
    out.push({ name: 'momentum: MACD histogram', score: macd_hist > 0 ? 0.5 : -0.5, reason: `MACD histogram ${fmt(macd_hist, 3)} (${macd_hist > 0 ? 'bullish' : 'bearish'})` });
  }
  if (rsi14 !== null && rsi14 !== undefined) {
    // Overbought/oversold fade the trend rather than reverse it.
    const s = rsi14 > 75 ? -1 : rsi14 < 25 ? 1 : rsi14 > 55 ? 0.5 : rsi14 < 45 ? -0.5 : 0;
    const zone = rsi14 > 75 ? 'overbought' : rsi14 < 25 ? 'oversold' : 'neutral-to-' + (rsi14 >= 50 ? 'firm' : 'soft');
    out.push({ name: 'momentum: RSI14', score: s, reason: `RSI14 ${fmt(rsi14, 1)} (${zone})` });
  }
  if (close !== null && close !== undefined && bb_upper !== null && bb_upper !== undefined && bb_lower !== null && bb_lower !== undefined) {
    const pos = (close - bb_lower) / Math.max(1e-9, bb_upper - bb_lower);
    const s = pos > 1 ? -0.5 : pos < 0 ? 0.5 : 0;
    out.push({ name: 'volatility: Bollinger position', score: s, reason: `close at ${pct(pos)} of the 20-day band${pos > 1 ? ' (stretched above)' : pos < 0 ? ' (stretched below)' : ''}` });
  }
  if (return20 !== null && return20 !== undefined) {
    const s = return20 > 0.03 ? 0.5 : return20 < -0.03 ? -0.5 : 0;
    out.push({ name: 'momentum: 20-day return', score: s, reason: `20-session return ${pct(return20)}` });
  }
  return out;
}

/** Volatility regime: ATR as a share of price. High volatility lowers confidence. */
export function volatilityRegime(ind: Record<string, number | null>): { atrPct: number | null; damping: number; label: string } {
  const { atr14, close } = ind;
  if (!atr14 || !close) return { atrPct: null, damping: 1, label: 'unknown' };
  const atrPct = atr14 / close;
  if (atrPct > 0.04) return { atrPct, damping: 0.6, label: 'high volatility' };
  if (atrPct > 0.025) return { atrPct, damping: 0.8, label: 'elevated volatility' };
  return { atrPct, damping: 1, label: 'normal volatility' };
}

export function ratingFromScore(score: number): Rating {
  if (score >= 3) return 'Buy';
  if (score >= 1.5) return 'Overweight';
  if (score <= -3) return 'Sell';
  if (score <= -1.5) return 'Underweight';
  return 'Hold';
}

export function decisionOf(rating: Rating): Decision {
  return rating === 'Buy' || rating === 'Overweight' ? 'BUY' : rating === 'Sell' || rating === 'Underweight' ? 'SELL' : 'HOLD';
}

/** The default engine: no keys, deterministic, explainable. */
export function runQuantAnalysis(snapshot: MarketSnapshot): AnalysisOutcome {
  const ind = snapshot.indicators;
  const signals = quantSignals(ind);
  const score = signals.reduce((s, x) => s + x.score, 0);
  const maxScore = signals.reduce((s, x) => s + Math.max(1, Math.abs(x.score)), 0) || 1;
  const regime = volatilityRegime(ind);
  const rating = ratingFromScore(score);
  const decision = decisionOf(rating);
  // Conviction = agreement of the votes, tempered by volatility; HOLD conviction is how balanced they are.
  const agreement = Math.min(1, Math.abs(score) / maxScore);
  const rsi = ind.rsi14 ?? 50;
  const stretched = (decision === 'BUY' && rsi > 75) || (decision === 'SELL' && rsi < 25) ? 0.7 : 1;
  const confidence = Math.round(Math.min(0.95, Math.max(0.05, (decision === 'HOLD' ? 1 - agreement : 0.35 + agreement)) * regime.damping * stretched) * 100) / 100;

  const table = signals.map((s) => `| ${s.name} | ${s.score > 0 ? '+' : ''}${s.score} | ${s.reason} |`).join('\n');
  const market = [
    `Quantitative read of ${snapshot.ticker} on ${snapshot.date} (data: ${snapshot.data_source}).`,
    '',
    '| signal | vote | why |',
    '|---|---|---|',
    table || '| (not enough history) | 0 | fewer bars than the indicators need |',
    '',
    `Total score ${score.toFixed(1)}; ${regime.label}${regime.atrPct !== null ? ` (ATR ${pct(regime.atrPct)} of price)` : ''}.`,
  ].join('\n');
  const unavailable = (what: string) => `${what} not used by the quant engine${snapshot.data_source === 'simulated' ? ' (and unavailable from simulated data)' : ''}.`;
  const fundamentals = snapshot.fundamentals
    ? `Fundamentals from ${snapshot.data_source}: ${Object.entries(snapshot.fundamentals).filter(([, v]) => v !== null).map(([k, v]) => `${k}=${v}`).join(', ') || 'none reported'} (informational; not scored).`
    : `Fundamentals unavailable from ${snapshot.data_source}.`;
  const news = snapshot.news ? `${snapshot.news.length} recent headlines from ${snapshot.data_source} (informational; not scored): ${snapshot.news.slice(0, 3).map((n) => n.title).join(' | ')}` : `News unavailable from ${snapshot.data_source}.`;
  const bull = signals.filter((s) => s.score > 0).map((s) => s.reason);
  const bear = signals.filter((s) => s.score < 0).map((s) => s.reason);
  const debate = `Bull case: ${bull.join('; ') || 'none'}.\nBear case: ${bear.join('; ') || 'none'}.`;
  const trader = decision === 'HOLD' ? 'No trade: signals are mixed.' : `${decision} ${snapshot.ticker} near ${fmt(ind.close)}; ${ind.atr14 ? `stop ${fmt(decision === 'BUY' ? ind.close! - 2 * ind.atr14 : ind.close! + 2 * ind.atr14)} (2 ATR)` : 'no ATR for a stop'}.`;
  const risk = `${regime.label}; ${stretched < 1 ? 'RSI is stretched in the direction of the trade, conviction reduced; ' : ''}confidence ${confidence}.`;
  const final = `${rating} → ${decision} (confidence ${confidence}). Score ${score.toFixed(1)} from ${signals.length} signals; ${regime.label}.`;
  return {
    decision,
    rating,
    confidence,
    reports: { market, fundamentals, news, sentiment: unavailable('Sentiment'), debate, trader, risk, final },
    models: [],
    usage: ZERO_USAGE,
  };
}

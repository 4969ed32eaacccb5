/** One point of an equity curve: the account after a slot's decisions. */
export interface EquityPoint {
  /** ISO instant of the slot (a session's close, or the intraday slot). */
  t: string;
  date: string;
  equity: number;
  buy_and_hold: number;
}

export interface CurveStats {
  total_return: number | null;
  /** Largest fall from a peak, as a positive fraction (0.12 = 12 %). */
  max_drawdown: number | null;
  /** Mean over standard deviation of per-session returns, × √252; null with under two sessions or no variation. */
  sharpe: number | null;
}

const round = (n: number, d = 6) => Math.round(n * 10 ** d) / 10 ** d;

/** The equity at the end of each session, in date order. */
export function sessionCloses(points: Array<{ date: string; value: number }>): Array<{ date: string; value: number }> {
  const byDate = new Map<string, number>();
  for (const p of points) byDate.set(p.date, p.value);
  return [...byDate].map(([date, value]) => ({ date, value }));
}

export function maxDrawdown(values: number[]): number | null {
  if (values.length === 0) return null;
  let peak = values[0]!;
  let worst = 0;
  for (const v of values) {
    if (v > peak) peak = v;
    if (peak > 0) worst = Math.max(worst, (peak - v) / peak);
  }
  return round(worst);
}

/** Annualised Sharpe ratio of per-session returns (risk-free rate 0), sample standard deviation. */
export function sharpeRatio(returns: number[]): number | null {
  if (returns.length < 2) return null;
  const mean = returns.reduce((a, b) => a + b, 0) / returns.length;
  const variance = returns.reduce((a, r) => a + (r - mean) ** 2, 0) / (returns.length - 1);
  const sd = Math.sqrt(variance);
  if (!(sd > 1e-12)) return null;
  return round((mean / sd) * Math.sqrt(252), 4);
}

/** Total return, max drawdown and Sharpe of a curve that starts from `start`. */
export function curveStats(start: number, points: Array<{ date: string; value: number }>): CurveStats {
  if (points.length === 0 || !(start > 0)) return { total_return: null, max_drawdown: null, sharpe: null };
  const closes = sessionCloses(points);
  const series = [start, ...closes.map((c) => c.value)];
  const returns = series.slice(1).map((v, i) => v / series[i]! - 1);
  return {
    total_return: round(points.at(-1)!.value / start - 1),
    max_drawdown: maxDrawdown([start, ...points.map((p) => p.value)]),
    sharpe: sharpeRatio(returns),
  };
}

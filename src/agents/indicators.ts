import { ATR, BollingerBands, EMA, MACD, RSI, SMA, VWMA } from 'trading-signals';
import type { Bar } from './analysis-types.ts';

/**
 * Latest indicator values over daily bars, from `trading-signals` (not hand-rolled). A value is null
 * until there is enough history for it.
 */
export function computeIndicators(bars: Bar[]): Record<string, number | null> {
  const sma50 = new SMA(50);
  const sma200 = new SMA(200);
  const ema10 = new EMA(10);
  const rsi14 = new RSI(14);
  const macd = new MACD(new EMA(12), new EMA(26), new EMA(9));
  const bb = new BollingerBands(20, 2);
  const atr14 = new ATR(14);
  const vwma20 = new VWMA(20);
  const sma50History: number[] = [];
  for (const b of bars) {
    sma50.update(b.c, false);
    sma200.update(b.c, false);
    ema10.update(b.c, false);
    rsi14.update(b.c, false);
    macd.update(b.c, false);
    bb.update(b.c, false);
    atr14.update({ high: b.h, low: b.l, close: b.c }, false);
    vwma20.update({ high: b.h, low: b.l, close: b.c, volume: b.v }, false);
    // Checked first: getResult() on an indicator short of data throws (and catches) an error per bar.
    if (sma50.isStable) sma50History.push(Number(sma50.getResult()));
  }
  const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  const m = macd.getResult();
  const band = bb.getResult();
  const last = bars.at(-1)?.c ?? null;
  const sma50Then = sma50History.length > 20 ? sma50History[sma50History.length - 21]! : null;
  return {
    close: last,
    sma50: num(sma50.getResult()),
    sma200: num(sma200.getResult()),
    ema10: num(ema10.getResult()),
    rsi14: num(rsi14.getResult()),
    macd: m ? Number(m.macd) : null,
    macd_signal: m ? Number(m.signal) : null,
    macd_hist: m ? Number(m.histogram) : null,
    bb_upper: band ? Number(band.upper) : null,
    bb_middle: band ? Number(band.middle) : null,
    bb_lower: band ? Number(band.lower) : null,
    atr14: num(atr14.getResult()),
    vwma20: num(vwma20.getResult()),
    /** Slope of SMA50 over the last 20 sessions, as a fraction. */
    sma50_slope20: sma50Then && sma50History.length ? sma50History.at(-1)! / sma50Then - 1 : null,
    /** 20-session return. */
    return20: bars.length > 20 && last ? last / bars[bars.length - 21]!.c - 1 : null,
  };
}

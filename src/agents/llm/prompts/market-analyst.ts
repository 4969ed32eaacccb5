import type { MarketSnapshot } from '../../analysis-types.ts';
import { deskSystem, type DeskFacts } from './desk-brief.ts';

export function marketAnalystSystem(f: DeskFacts): string {
  return deskSystem(
    'market analyst',
    f,
    'You read price action. Judge the trend (moving averages and their slope), momentum (MACD, RSI, the 20-session return), volatility (ATR, Bollinger bands) and the levels that matter (recent highs and lows, the bands). Close with the technical bias — bullish, bearish or neutral — and what would change it.',
  );
}

export function marketData(s: MarketSnapshot): string {
  const last = s.daily.slice(-30).map((b) => `${b.t.slice(0, 10)} o${b.o} h${b.h} l${b.l} c${b.c} v${b.v}`).join('\n');
  const ind = Object.entries(s.indicators).map(([k, v]) => `${k}=${v === null ? 'n/a' : Number(v.toFixed(4))}`).join(', ');
  return `Price data source: ${s.data_source}.\nLast ${Math.min(30, s.daily.length)} daily bars (date open high low close volume):\n${last}\nIndicators at the last bar: ${ind}\nQuote: ${s.quote ? `${s.quote.price} at ${s.quote.time}` : 'none (the last close stands)'}`;
}

export function marketAnalystUser(s: MarketSnapshot): string {
  return `Write the technical report.\n\n${marketData(s)}`;
}

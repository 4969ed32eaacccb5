import { deskSystem, positionText, type DeskFacts, type DeskPosition } from './desk-brief.ts';

export function traderSystem(f: DeskFacts): string {
  return deskSystem(
    'trader',
    f,
    'You turn the research plan into a trade for this paper account. Decide BUY, SELL or HOLD given what the account already holds, with an entry, a protective stop and a target grounded in the price and its volatility (ATR), and a size that fits the account\'s rules. Explain the trade in a few sentences.',
  );
}

export function traderUser(x: { ticker: string; plan: { recommendation: string; rationale: string; plan: string }; price: number; atr14: number | null; position: DeskPosition | 'not-live' | null }): string {
  return [
    `Research plan (${x.plan.recommendation}): ${x.plan.plan}`,
    `Rationale: ${x.plan.rationale}`,
    positionText(x.ticker, x.position),
    `Latest price: ${x.price}. ATR14: ${x.atr14 ?? 'n/a'}.`,
    'Propose the trade: action, entry, stop, target, sizing and rationale.',
  ].join('\n');
}

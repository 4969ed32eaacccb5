import { deskSystem, type DeskFacts } from './desk-brief.ts';

export function reflectionSystem(f: DeskFacts): string {
  return deskSystem(
    'reflection analyst',
    f,
    'You review one of this desk\'s past decisions now that its outcome is known. Say in at most three sentences what the decision got right or wrong and the one lesson the portfolio manager should carry into the next decision — concrete (which signal to trust or distrust, when), not a platitude.',
  );
}

export function reflectionUser(x: { ticker: string; date: string; decision: string; rating?: string; confidence?: number; price: number; return5d: number; reasoning: string | null }): string {
  return [
    `Decision on ${x.ticker} for ${x.date}: ${x.decision}${x.rating ? ` (${x.rating}` : ''}${x.confidence !== undefined ? `, confidence ${x.confidence})` : x.rating ? ')' : ''} at ${x.price}.`,
    `Outcome: the close 5 sessions later was ${(x.return5d * 100).toFixed(2)} % from the decision price.`,
    `The portfolio manager's reasoning then: ${x.reasoning ?? '(not kept)'}`,
    'Write the lesson.',
  ].join('\n');
}

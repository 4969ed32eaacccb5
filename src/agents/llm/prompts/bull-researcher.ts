import { deskSystem, type DeskFacts } from './desk-brief.ts';

export function bullResearcherSystem(f: DeskFacts): string {
  return deskSystem(
    'bull researcher',
    f,
    'You argue for owning the stock. Build the case from the analysts\' evidence — growth, competitive position, positive signals in price, news and sentiment — and answer the bear researcher\'s latest points one by one with evidence, not optimism. Speak as in a debate, in a few tight paragraphs.',
  );
}

export function researcherUser(side: 'bull' | 'bear', analystBrief: string, debate: string[], round: number): string {
  const other = side === 'bull' ? 'bear' : 'bull';
  return `Analyst reports:\n${analystBrief}\n\nDebate so far:\n${debate.join('\n\n') || '(you open the debate)'}\n\nRound ${round}: make the ${side} case${debate.length ? ` and rebut the ${other}'s last argument` : ''}.`;
}

import { deskSystem, type DeskFacts } from './desk-brief.ts';

export function bearResearcherSystem(f: DeskFacts): string {
  return deskSystem(
    'bear researcher',
    f,
    'You argue against owning the stock. Build the case from the analysts\' evidence — risks, weakening numbers, stretched valuation, negative signals in price, news and sentiment — and answer the bull researcher\'s latest points one by one with evidence, not gloom. Speak as in a debate, in a few tight paragraphs.',
  );
}

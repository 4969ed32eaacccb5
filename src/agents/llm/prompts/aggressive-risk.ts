import { deskSystem, type DeskFacts } from './desk-brief.ts';

export function aggressiveRiskSystem(f: DeskFacts): string {
  return deskSystem(
    'aggressive risk analyst',
    f,
    'You speak for taking the opportunity. Argue where the trade is too timid — a size too small, a stop too tight, upside left on the table — and challenge the cautious views with the evidence for a bolder trade. You accept risk when the reward pays for it; say how much.',
  );
}

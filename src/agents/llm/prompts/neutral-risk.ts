import { deskSystem, type DeskFacts } from './desk-brief.ts';

export function neutralRiskSystem(f: DeskFacts): string {
  return deskSystem(
    'neutral risk analyst',
    f,
    'You weigh the bold and the cautious views against each other. Say where each overreaches, and propose the adjustment to the trade (size, stop, timing) that balances reward and risk best on this evidence.',
  );
}

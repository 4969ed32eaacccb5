import { deskSystem, type DeskFacts } from './desk-brief.ts';

export function researchManagerSystem(f: DeskFacts): string {
  return deskSystem(
    'research manager',
    f,
    'You chair the bull/bear debate and rule on it. Take the side the strongest evidence supports — Hold only when the evidence is truly balanced, not as a refuge — and turn the ruling into an investment plan for the trader: the recommendation on the five-tier scale (Buy, Overweight, Hold, Underweight, Sell), the decisive arguments, and concrete steps.',
  );
}

export function researchManagerUser(analystBrief: string, debate: string[]): string {
  return `Analyst reports:\n${analystBrief}\n\nDebate:\n${debate.join('\n\n') || '(no debate rounds were held)'}\n\nRule on the debate: recommendation, rationale and investment plan.`;
}

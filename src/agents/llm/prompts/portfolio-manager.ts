import type { Lesson } from '../../memory/lesson-log.ts';
import { deskSystem, positionText, type DeskFacts, type DeskPosition } from './desk-brief.ts';

export function portfolioManagerSystem(f: DeskFacts): string {
  return deskSystem(
    'portfolio manager',
    f,
    'You make the final call for this paper account. Weigh the research plan, the trader\'s proposal and the risk discussion, the account\'s current position, and the lessons from this desk\'s own past decisions. Rate on the five-tier scale (Buy, Overweight, Hold, Underweight, Sell), give a confidence between 0 and 1, a one-line summary and the rationale; say which lesson, if any, changed your mind.',
  );
}

const lessonLine = (l: Lesson) => `- ${l.ticker} ${l.date} (${l.decision}${l.rating ? `, ${l.rating}` : ''}; 5-session return ${(l.return_5d * 100).toFixed(2)} %): ${l.lesson}`;

export function portfolioManagerUser(x: {
  ticker: string;
  plan: { recommendation: string; rationale: string };
  traderPlan: string;
  risk: string[];
  position: DeskPosition | 'not-live' | null;
  lessons: { same: Lesson[]; others: Lesson[] };
}): string {
  const lessons = [
    `Lessons from past ${x.ticker} decisions:\n${x.lessons.same.map(lessonLine).join('\n') || '(none yet)'}`,
    `Lessons from other tickers:\n${x.lessons.others.map(lessonLine).join('\n') || '(none yet)'}`,
  ].join('\n');
  return [
    `Research plan: ${x.plan.recommendation} — ${x.plan.rationale}`,
    `Trader: ${x.traderPlan}`,
    `Risk discussion:\n${x.risk.join('\n\n') || '(no risk rounds were held)'}`,
    positionText(x.ticker, x.position),
    lessons,
    'Decide: rating, confidence, summary and rationale.',
  ].join('\n\n');
}

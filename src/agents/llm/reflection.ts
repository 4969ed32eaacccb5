import { nyDate } from '../../calendar/index.ts';
import type { Bar } from '../analysis-types.ts';
import type { CycleContext } from '../cycle-context.ts';
import { hasLesson, writeLesson, type Lesson } from '../memory/lesson-log.ts';
import { pricedOn, scorecardKeys, type ScoredDecision } from '../scorecard/decision-log.ts';
import { scoreTickerFromBars } from '../scorecard/forward-returns.ts';
import { readDeskRun } from './desk-run-store.ts';
import type { LlmSession } from './llm-client.ts';
import type { ReasoningEffort } from './model-capabilities.ts';
import type { DeskFacts } from './prompts/desk-brief.ts';
import { reflectionSystem, reflectionUser } from './prompts/reflection.ts';

/** Reflections written per cycle at most: a backlog is worked off over a few cycles, not in one expensive one. */
const MAX_PER_CYCLE = 2;

/** The session whose close made the +5 return known, from the bars the cycle has (null when not among them). */
function knownOn(daily: Bar[], decisionDate: string): string | null {
  const dates = [...new Set(daily.map((b) => nyDate(new Date(b.t))))].sort();
  let base = -1;
  for (let i = 0; i < dates.length && dates[i]! <= decisionDate; i++) base = i;
  return base >= 0 && base + 5 < dates.length ? dates[base + 5]! : null;
}

/**
 * Writes a lesson for each of this agent's decisions on the ticker whose 5-session return is now known
 * and which has none yet: the quick model reviews the decision against its outcome. A cycle of today
 * scores the ticker from its bars first; a backdated cycle learns only from outcomes known by its date.
 */
export async function reflectOnScoredDecisions(
  llm: LlmSession,
  ctx: CycleContext,
  x: { agent: string; facts: DeskFacts; daily: Bar[]; dataSource: string; model: string; effort: ReasoningEffort },
): Promise<Lesson[]> {
  const prefix = ctx.config.QUEUE_PREFIX;
  const { ticker, date } = x.facts;
  const now = ctx.now?.() ?? new Date();
  // As the cycle does: only a cycle of today's session scores the live scorecard from its bars.
  // Scoring and lessons are the desk's memory, not this analysis: a Redis refusing writes (OOM, a
  // failover) must not fail the cycle and throw away the model calls already paid for. The scheduler's
  // scoring pass scores later; a lesson not written now is written by a later cycle.
  const remembered = <T>(what: string, write: Promise<T>, otherwise: T) =>
    write.catch((err: Error) => (ctx.logger.warn({ err: err.message, ticker }, `${what} not saved; the analysis goes on`), otherwise));
  if (date === nyDate(now)) await remembered('forward returns', scoreTickerFromBars(ctx.redis, prefix, ticker, { daily: x.daily, source: x.dataSource }, now), undefined);
  const entries = (await ctx.redis.hvals(scorecardKeys(prefix).entries(x.agent)))
    .map((r) => JSON.parse(r) as ScoredDecision)
    .filter((e) => e.ticker === ticker && e.return_5d !== null && e.date < date)
    .sort((a, b) => b.date.localeCompare(a.date));
  const done = await hasLesson(ctx.redis, prefix, x.agent, entries.map((e) => e.job_id));
  const todo = entries.filter((_, i) => !done[i]).slice(0, MAX_PER_CYCLE);
  const written: Lesson[] = [];
  for (const e of todo) {
    const on = knownOn(x.daily, pricedOn(e));
    if (!on || on > date) continue;
    const run = await readDeskRun(ctx.redis, prefix, e.job_id);
    const reasoning = run?.role_reports.portfolio_manager ?? null;
    const text = await llm.text(
      'reflection analyst',
      x.model,
      [
        { role: 'system', content: reflectionSystem(x.facts) },
        { role: 'user', content: reflectionUser({ ticker, date: e.date, decision: e.decision, rating: e.rating, confidence: e.confidence, price: e.price, return5d: e.return_5d!, reasoning }) },
      ],
      { effort: x.effort },
    );
    const lesson: Lesson = {
      job_id: e.job_id,
      agent: x.agent,
      ticker,
      date: e.date,
      decision: e.decision,
      ...(e.rating ? { rating: e.rating } : {}),
      return_5d: e.return_5d!,
      known_on: on,
      lesson: text.slice(0, 1200),
      model: x.model,
      written_at: (ctx.now?.() ?? new Date()).toISOString(),
    };
    if (await remembered('lesson', writeLesson(ctx.redis, prefix, lesson), false)) written.push(lesson);
  }
  return written;
}

import type OpenAI from 'openai';
import { z } from 'zod';
import { CycleAbortedError, RATINGS, sumUsage, type Decision, type Rating, type RoleReportKey, type RoleReports } from '../../core/index.ts';
import type { AnalysisOutcome, EngineInput, MarketSnapshot } from '../analysis-types.ts';
import type { CycleContext } from '../cycle-context.ts';
import { describeUnavailable } from '../data/point-in-time.ts';
import { loadResearch, researchSourcesFor, type ResearchData, type ResearchSources } from '../data/research-sources.ts';
import { lessonsForDecision } from '../memory/lesson-log.ts';
import { getPortfolio } from '../portfolio/paper-ledger.ts';
import { deskRunRecorder } from './desk-run-store.ts';
import { createOpenAIClient, LlmSession, type CallUsage } from './llm-client.ts';
import { pricingOf, type PriceTable } from './llm-pricing.ts';
import type { ReasoningEffort } from './model-capabilities.ts';
import { aggressiveRiskSystem } from './prompts/aggressive-risk.ts';
import { bearResearcherSystem } from './prompts/bear-researcher.ts';
import { bullResearcherSystem, researcherUser } from './prompts/bull-researcher.ts';
import { conservativeRiskSystem } from './prompts/conservative-risk.ts';
import { analystBrief as briefOf, type DeskFacts, type DeskPosition } from './prompts/desk-brief.ts';
import { fundamentalsAnalystSystem, fundamentalsAnalystUser } from './prompts/fundamentals-analyst.ts';
import { marketAnalystSystem, marketAnalystUser } from './prompts/market-analyst.ts';
import { neutralRiskSystem } from './prompts/neutral-risk.ts';
import { newsAnalystSystem, newsAnalystUser } from './prompts/news-analyst.ts';
import { portfolioManagerSystem, portfolioManagerUser } from './prompts/portfolio-manager.ts';
import { researchManagerSystem, researchManagerUser } from './prompts/research-manager.ts';
import { riskUser } from './prompts/risk-discussion.ts';
import { sentimentAnalystSystem, sentimentAnalystUser } from './prompts/sentiment-analyst.ts';
import { traderSystem, traderUser } from './prompts/trader.ts';
import { reflectOnScoredDecisions } from './reflection.ts';

export interface LlmAnalysisOutcome extends AnalysisOutcome {
  calls: CallUsage[];
  role_reports: RoleReports;
  lessons_used: Array<{ ticker: string; date: string; lesson: string }>;
}

export interface LlmDeps {
  client?: OpenAI;
  prices?: PriceTable;
  sleep?: (ms: number) => Promise<void>;
  /** Replaces global fetch for the research sources (tests point it at local servers). */
  fetch?: typeof fetch;
  /** Replaces the research sources chosen from the snapshot's data source. */
  research?: ResearchSources;
}

const planSchema = z.object({ recommendation: z.enum(RATINGS), rationale: z.string().min(1), plan: z.string() });
const planJson = {
  type: 'object',
  additionalProperties: false,
  required: ['recommendation', 'rationale', 'plan'],
  properties: { recommendation: { type: 'string', enum: [...RATINGS] }, rationale: { type: 'string' }, plan: { type: 'string' } },
};
const traderSchema = z.object({
  action: z.enum(['BUY', 'SELL', 'HOLD']),
  entry: z.number().nullable(),
  stop: z.number().nullable(),
  target: z.number().nullable(),
  sizing: z.string(),
  rationale: z.string().min(1),
});
const traderJson = {
  type: 'object',
  additionalProperties: false,
  required: ['action', 'entry', 'stop', 'target', 'sizing', 'rationale'],
  properties: {
    action: { type: 'string', enum: ['BUY', 'SELL', 'HOLD'] },
    entry: { type: ['number', 'null'] },
    stop: { type: ['number', 'null'] },
    target: { type: ['number', 'null'] },
    sizing: { type: 'string' },
    rationale: { type: 'string' },
  },
};
const decisionSchema = z.object({ rating: z.enum(RATINGS), confidence: z.number().min(0).max(1), summary: z.string().min(1), rationale: z.string() });
const decisionJson = {
  type: 'object',
  additionalProperties: false,
  required: ['rating', 'confidence', 'summary', 'rationale'],
  properties: { rating: { type: 'string', enum: [...RATINGS] }, confidence: { type: 'number' }, summary: { type: 'string' }, rationale: { type: 'string' } },
};

export function decisionFromRating(rating: Rating): Decision {
  return rating === 'Buy' || rating === 'Overweight' ? 'BUY' : rating === 'Sell' || rating === 'Underweight' ? 'SELL' : 'HOLD';
}

type AnalystKind = 'market' | 'fundamentals' | 'news' | 'sentiment';

/** Each analyst's prompt from the research, or why it has nothing to read (no call is made then). */
function analystRequest(kind: AnalystKind, s: MarketSnapshot, r: ResearchData, f: DeskFacts): { system: string; user: string } | { skipped: string } {
  switch (kind) {
    case 'market':
      return { system: marketAnalystSystem(f), user: marketAnalystUser(s) };
    case 'fundamentals':
      return r.fundamentals.available
        ? { system: fundamentalsAnalystSystem(f), user: fundamentalsAnalystUser(r.fundamentals.data, r.fundamentals.note) }
        : { skipped: `Fundamentals analyst skipped: financial statements ${describeUnavailable(r.fundamentals)}.` };
    case 'news':
      return r.news.available || r.market_news.available
        ? { system: newsAnalystSystem(f), user: newsAnalystUser(r.news, r.market_news) }
        : { skipped: `News analyst skipped: company news ${describeUnavailable(r.news as Extract<typeof r.news, { available: false }>)}.` };
    case 'sentiment':
      // Social posts only: the news analyst's headlines are not sentiment evidence a second time.
      return r.social.available && r.social.data.length > 0
        ? { system: sentimentAnalystSystem(f), user: sentimentAnalystUser(r.social.source, r.social.data) }
        : { skipped: `Sentiment analyst skipped: social posts ${r.social.available ? `unavailable for ${r.social.as_of} from ${r.social.source}: none published` : describeUnavailable(r.social)}.` };
  }
}

async function currentPosition(ctx: CycleContext, agent: string, ticker: string, price: number, targetPercent: number): Promise<DeskPosition | null> {
  const p = await getPortfolio(ctx.redis, ctx.config.QUEUE_PREFIX, agent, { trades: 1, curve: 1, markPrices: { [ticker]: price } });
  if (!p) return null;
  const pos = p.positions.find((x) => x.ticker === ticker);
  return {
    shares: pos?.quantity ?? 0,
    avg_price: pos?.avg_price ?? null,
    market_value: pos?.market_value ?? 0,
    unrealized_pnl: pos?.unrealized_pnl ?? 0,
    cash: p.cash,
    equity: p.equity,
    target_percent: targetPercent,
  };
}

/**
 * The multi-agent analysis, after the published TradingAgents framework: analysts (in parallel, each on
 * its own point-in-time evidence) → bull/bear debate → research manager → trader → aggressive,
 * conservative and neutral risk discussion → portfolio manager, with lessons from the desk's scored
 * decisions. Outputs the next step relies on are structured and validated. Every role's output and
 * every call is recorded under the job id as it finishes, so a failed cycle keeps what it did.
 */
export async function runLlmAnalysis(input: EngineInput, ctx: CycleContext, deps: LlmDeps = {}): Promise<LlmAnalysisOutcome> {
  const { snapshot: s, profile, options } = input;
  const agent = input.agent ?? 'llm';
  const quick = options.quick_model ?? profile.quick_model;
  const deep = options.deep_model ?? profile.deep_model;
  const quickEffort: ReasoningEffort = options.quick_reasoning_effort ?? profile.quick_reasoning_effort;
  const deepEffort: ReasoningEffort = options.deep_reasoning_effort ?? profile.deep_reasoning_effort;
  const analysts = options.analysts ?? profile.analysts;
  const debateRounds = options.debate_rounds ?? profile.debate_rounds;
  const riskRounds = options.risk_rounds ?? profile.risk_rounds;
  const prefix = ctx.config.QUEUE_PREFIX;
  const pricing = pricingOf(ctx.config);
  const recorder = deskRunRecorder(ctx.redis, prefix, { job_id: ctx.jobId, agent, ticker: s.ticker, date: s.date, attempt: ctx.attempt });
  const llm = new LlmSession(deps.client ?? createOpenAIClient(ctx.config), ctx, {
    budget: options.max_tokens_per_cycle ?? profile.max_tokens_per_cycle,
    prices: deps.prices ?? pricing.prices,
    local: pricing.local,
    temperature: options.temperature ?? profile.temperature,
    maxCompletionTokens: profile.max_completion_tokens,
    agent,
    sleep: deps.sleep,
    onCall: (call) => recorder.call(call),
  });
  await recorder.start();
  const roleReports: RoleReports = {};
  const keep = async (role: RoleReportKey, text: string) => {
    roleReports[role] = text;
    await recorder.report(role, text).catch(() => undefined);
  };
  try {
    const outcome = await desk();
    await recorder.finish('completed');
    return outcome;
  } catch (err) {
    // Whatever an aborted research fetch or model call threw, the cause is the abort: say so.
    const failure = ctx.signal.aborted && !(err instanceof CycleAbortedError) ? new CycleAbortedError(String(ctx.signal.reason instanceof Error ? ctx.signal.reason.message : (ctx.signal.reason ?? 'aborted'))) : err;
    await recorder.finish('failed', (failure as Error).message ?? String(failure)).catch(() => undefined);
    throw failure;
  }

  async function desk(): Promise<LlmAnalysisOutcome> {
    const T = s.ticker;
    // The price the decision is taken at: the last bar the snapshot saw.
    const price = (s.intraday?.at(-1) ?? s.daily.at(-1)!).c;
    const research = await loadResearch(deps.research ?? researchSourcesFor(s.data_source, ctx.config, { fetch: deps.fetch, now: ctx.now }), {
      ticker: T,
      date: s.date,
      dataSource: s.data_source,
      signal: ctx.signal,
      logger: ctx.logger,
      redis: ctx.redis,
      prefix,
      now: ctx.now,
    });
    const facts: DeskFacts = { ticker: T, date: s.date, company: research.company, dataSource: s.data_source };
    const position: DeskPosition | 'not-live' | null = input.liveAccount ? await currentPosition(ctx, agent, T, price, profile.portfolio.target_percent) : 'not-live';

    await ctx.reportProgress('analysts', 10);
    const reports = { market: '', fundamentals: '', news: '', sentiment: '' } as Record<AnalystKind, string>;
    await Promise.all([
      ...(['market', 'fundamentals', 'news', 'sentiment'] as const).map(async (kind) => {
        if (!analysts.includes(kind)) {
          reports[kind] = `${kind} analyst not part of this profile.`;
          return;
        }
        const req = analystRequest(kind, s, research, facts);
        reports[kind] =
          'skipped' in req
            ? req.skipped
            : await llm.text(`${kind} analyst`, quick, [{ role: 'system', content: req.system }, { role: 'user', content: req.user }], { effort: quickEffort });
        await keep(`${kind}_analyst`, reports[kind]);
      }),
      // Past decisions whose outcome is now known become lessons before the portfolio manager decides.
      reflectOnScoredDecisions(llm, ctx, { agent, facts, daily: s.daily, dataSource: s.data_source, model: quick, effort: quickEffort }),
    ]);
    const brief = briefOf(reports);

    await ctx.reportProgress('debate', 25);
    const debate: string[] = [];
    const turns = { Bull: [] as string[], Bear: [] as string[] };
    for (let round = 1; round <= debateRounds; round++) {
      for (const side of ['Bull', 'Bear'] as const) {
        const system = side === 'Bull' ? bullResearcherSystem(facts) : bearResearcherSystem(facts);
        const turn = await llm.text(`${side.toLowerCase()} researcher`, quick, [{ role: 'system', content: system }, { role: 'user', content: researcherUser(side === 'Bull' ? 'bull' : 'bear', brief, debate, round) }], { effort: quickEffort });
        debate.push(`${side} (round ${round}): ${turn}`);
        turns[side].push(`Round ${round}: ${turn}`);
        await keep(side === 'Bull' ? 'bull_researcher' : 'bear_researcher', turns[side].join('\n\n'));
      }
    }
    const plan = await llm.structured('research manager', deep, [{ role: 'system', content: researchManagerSystem(facts) }, { role: 'user', content: researchManagerUser(brief, debate) }], planSchema, planJson, { effort: deepEffort });
    await keep('research_manager', `${plan.recommendation} — ${plan.rationale}\nPlan: ${plan.plan}`);

    await ctx.reportProgress('trader', 55);
    const trader = await llm.structured(
      'trader',
      quick,
      [{ role: 'system', content: traderSystem(facts) }, { role: 'user', content: traderUser({ ticker: T, plan, price, atr14: s.indicators.atr14 ?? null, position }) }],
      traderSchema,
      traderJson,
      { effort: quickEffort },
    );
    const traderText = `${trader.action} — entry ${trader.entry ?? 'n/a'}, stop ${trader.stop ?? 'n/a'}, target ${trader.target ?? 'n/a'}; sizing: ${trader.sizing}. ${trader.rationale}`;
    await keep('trader', traderText);

    await ctx.reportProgress('risk', 70);
    const risk: string[] = [];
    const stances = [
      { name: 'Aggressive', key: 'aggressive_risk', system: aggressiveRiskSystem(facts), turns: [] as string[] },
      { name: 'Conservative', key: 'conservative_risk', system: conservativeRiskSystem(facts), turns: [] as string[] },
      { name: 'Neutral', key: 'neutral_risk', system: neutralRiskSystem(facts), turns: [] as string[] },
    ] as const;
    const planText = `${plan.recommendation} — ${plan.plan} (${plan.rationale})`;
    for (let round = 1; round <= riskRounds; round++) {
      for (const stance of stances) {
        const turn = await llm.text(
          `${stance.name.toLowerCase()} risk analyst`,
          quick,
          [{ role: 'system', content: stance.system }, { role: 'user', content: riskUser(stance.name.toLowerCase(), { analystBrief: brief, plan: planText, traderPlan: traderText, discussion: risk, round }) }],
          { effort: quickEffort },
        );
        risk.push(`${stance.name} (round ${round}): ${turn}`);
        stance.turns.push(`Round ${round}: ${turn}`);
        await keep(stance.key, stance.turns.join('\n\n'));
      }
    }

    await ctx.reportProgress('decision', 85);
    const lessons = await lessonsForDecision(ctx.redis, prefix, agent, T, s.date, { same: profile.lessons_same_ticker, others: profile.lessons_other_tickers });
    const final = await llm.structured(
      'portfolio manager',
      deep,
      [{ role: 'system', content: portfolioManagerSystem(facts) }, { role: 'user', content: portfolioManagerUser({ ticker: T, plan, traderPlan: traderText, risk, position, lessons }) }],
      decisionSchema,
      decisionJson,
      { effort: deepEffort },
    );
    const finalText = `${final.rating} (confidence ${final.confidence}): ${final.summary}\n${final.rationale}`;
    await keep('portfolio_manager', finalText);

    return {
      decision: decisionFromRating(final.rating),
      rating: final.rating,
      confidence: final.confidence,
      reports: {
        ...reports,
        debate: `${debate.join('\n\n')}\n\nResearch manager: ${plan.recommendation} — ${plan.rationale}\nPlan: ${plan.plan}`.trim(),
        trader: traderText,
        risk: risk.join('\n\n') || '(no risk rounds)',
        final: finalText,
      },
      models: llm.models(),
      usage: llm.usage(),
      // A retried cycle: what the job spent in all, its earlier attempts included.
      ...(recorder.earlier() ? { job_usage: sumUsage(recorder.earlier()!, llm.usage()) } : {}),
      calls: llm.calls,
      role_reports: roleReports,
      lessons_used: [...lessons.same, ...lessons.others].map((l) => ({ ticker: l.ticker, date: l.date, lesson: l.lesson })),
    };
  }
}

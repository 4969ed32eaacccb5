import type OpenAI from 'openai';
import { z } from 'zod';
import { RATINGS, type Decision, type Rating } from '../../core/index.ts';
import type { AnalysisOutcome, EngineInput, MarketSnapshot } from '../analysis-types.ts';
import type { CycleContext } from '../cycle-context.ts';
import { createOpenAIClient, LlmSession, type CallUsage } from './llm-client.ts';
import { DEFAULT_PRICES, parsePriceOverrides, type PriceTable } from './llm-pricing.ts';

export interface LlmAnalysisOutcome extends AnalysisOutcome {
  calls: CallUsage[];
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

const sys = (role: string, ticker: string, date: string) => ({
  role: 'system' as const,
  content: `You are the ${role.toLowerCase()} of a trading desk analysing ${ticker} for ${date}. Use only the data given; if something is missing, say so instead of inventing it. Be concise.`,
});

function marketData(s: MarketSnapshot): string {
  const last = s.daily.slice(-20).map((b) => `${b.t.slice(0, 10)} o${b.o} h${b.h} l${b.l} c${b.c} v${b.v}`).join('\n');
  const ind = Object.entries(s.indicators).map(([k, v]) => `${k}=${v === null ? 'n/a' : Number(v.toFixed(4))}`).join(', ');
  return `Data source: ${s.data_source}.\nLast 20 daily bars:\n${last}\nIndicators: ${ind}\nQuote: ${s.quote ? `${s.quote.price} at ${s.quote.time}` : 'n/a'}`;
}

/** The analysts' prompts; a null prompt means the data is unavailable and no call is made. */
function analystPrompt(kind: string, s: MarketSnapshot): string | null {
  switch (kind) {
    case 'market':
      return `Write a technical analysis (trend, momentum, volatility, key levels).\n${marketData(s)}`;
    case 'fundamentals':
      return s.fundamentals ? `Assess the fundamentals:\n${JSON.stringify(s.fundamentals)}` : null;
    case 'news':
      return s.news ? `Summarise what these headlines mean for the stock:\n${s.news.map((n) => `- ${n.title}${n.publisher ? ` (${n.publisher})` : ''}`).join('\n')}` : null;
    case 'sentiment':
      return s.news
        ? `Judge the sentiment (bullish/bearish/neutral, with reasons) from the headlines and recent price action.\nHeadlines:\n${s.news.map((n) => `- ${n.title}`).join('\n')}\n${marketData(s)}`
        : `Judge market sentiment from price action alone (no headlines are available from ${s.data_source}).\n${marketData(s)}`;
    default:
      return null;
  }
}

/**
 * The multi-agent analysis, after the published TradingAgents framework: analysts (in parallel) →
 * bull/bear debate → research manager → trader → aggressive/conservative/neutral risk discussion →
 * portfolio manager. Outputs the next step relies on are structured and validated.
 */
export async function runLlmAnalysis(
  input: EngineInput,
  ctx: CycleContext,
  deps: { client?: OpenAI; prices?: PriceTable; sleep?: (ms: number) => Promise<void> } = {},
): Promise<LlmAnalysisOutcome> {
  const { snapshot: s, profile, options } = input;
  const quick = options.quick_model ?? profile.quick_model;
  const deep = options.deep_model ?? profile.deep_model;
  const analysts = options.analysts ?? profile.analysts;
  const debateRounds = options.debate_rounds ?? profile.debate_rounds;
  const riskRounds = options.risk_rounds ?? profile.risk_rounds;
  const llm = new LlmSession(deps.client ?? createOpenAIClient(ctx.config), ctx, {
    budget: options.max_tokens_per_cycle ?? profile.max_tokens_per_cycle,
    prices: deps.prices ?? { ...DEFAULT_PRICES, ...parsePriceOverrides(ctx.config.LLM_PRICES) },
    temperature: options.temperature ?? profile.temperature,
    agent: input.agent ?? 'llm',
    sleep: deps.sleep,
  });
  const T = s.ticker;
  const D = s.date;

  await ctx.reportProgress('analysts', 10);
  const reports = { market: '', fundamentals: '', news: '', sentiment: '' } as Record<'market' | 'fundamentals' | 'news' | 'sentiment', string>;
  await Promise.all(
    (['market', 'fundamentals', 'news', 'sentiment'] as const).map(async (kind) => {
      if (!analysts.includes(kind)) {
        reports[kind] = `${kind} analyst not part of this profile.`;
        return;
      }
      const prompt = analystPrompt(kind, s);
      reports[kind] = prompt
        ? await llm.text(`${kind} analyst`, quick, [sys(`${kind} analyst`, T, D), { role: 'user', content: prompt }])
        : `${kind[0]!.toUpperCase()}${kind.slice(1)} data unavailable from ${s.data_source}; no analysis made.`;
    }),
  );
  const analystBrief = (['market', 'fundamentals', 'news', 'sentiment'] as const).map((k) => `## ${k}\n${reports[k]}`).join('\n\n');

  await ctx.reportProgress('debate', 25);
  const debate: string[] = [];
  for (let round = 1; round <= debateRounds; round++) {
    for (const side of ['Bull', 'Bear'] as const) {
      const turn = await llm.text(`${side.toLowerCase()} researcher`, quick, [
        sys(`${side} researcher`, T, D),
        { role: 'user', content: `Analyst reports:\n${analystBrief}\n\nDebate so far:\n${debate.join('\n\n') || '(none)'}\n\nMake the ${side.toLowerCase()} case (round ${round}), answering the other side's last points.` },
      ]);
      debate.push(`${side} (round ${round}): ${turn}`);
    }
  }
  const plan = await llm.structured('research manager', deep, [
    sys('research manager', T, D),
    { role: 'user', content: `Analyst reports:\n${analystBrief}\n\nDebate:\n${debate.join('\n\n') || '(no debate rounds)'}\n\nRule on the debate: a recommendation (Buy, Overweight, Hold, Underweight, Sell), the rationale and an investment plan.` },
  ], planSchema, planJson);

  await ctx.reportProgress('trader', 55);
  const trader = await llm.structured('trader', quick, [
    sys('trader', T, D),
    { role: 'user', content: `Investment plan (${plan.recommendation}): ${plan.plan}\nRationale: ${plan.rationale}\nLatest price: ${s.quote?.price ?? s.daily.at(-1)?.c}. ATR14: ${s.indicators.atr14 ?? 'n/a'}.\nPropose the trade: action, entry, stop, target, sizing and rationale.` },
  ], traderSchema, traderJson);
  const traderText = `${trader.action} — entry ${trader.entry ?? 'n/a'}, stop ${trader.stop ?? 'n/a'}, target ${trader.target ?? 'n/a'}; sizing: ${trader.sizing}. ${trader.rationale}`;

  await ctx.reportProgress('risk', 70);
  const risk: string[] = [];
  for (let round = 1; round <= riskRounds; round++) {
    for (const stance of ['Aggressive', 'Conservative', 'Neutral'] as const) {
      const turn = await llm.text(`${stance.toLowerCase()} risk analyst`, quick, [
        sys(`${stance.toLowerCase()} risk analyst`, T, D),
        { role: 'user', content: `Proposed trade: ${traderText}\nPlan: ${plan.plan}\nDiscussion so far:\n${risk.join('\n\n') || '(none)'}\n\nGive the ${stance.toLowerCase()} view (round ${round}).` },
      ]);
      risk.push(`${stance} (round ${round}): ${turn}`);
    }
  }

  await ctx.reportProgress('decision', 85);
  const final = await llm.structured('portfolio manager', deep, [
    sys('portfolio manager', T, D),
    { role: 'user', content: `Research plan: ${plan.recommendation} — ${plan.rationale}\nTrader: ${traderText}\nRisk discussion:\n${risk.join('\n\n') || '(no risk rounds)'}\n\nDecide: rating (Buy, Overweight, Hold, Underweight, Sell), confidence 0..1, a one-line summary and the rationale.` },
  ], decisionSchema, decisionJson);

  return {
    decision: decisionFromRating(final.rating),
    rating: final.rating,
    confidence: final.confidence,
    reports: {
      ...reports,
      debate: `${debate.join('\n\n')}\n\nResearch manager: ${plan.recommendation} — ${plan.rationale}\nPlan: ${plan.plan}`.trim(),
      trader: traderText,
      risk: risk.join('\n\n') || '(no risk rounds)',
      final: `${final.rating} (confidence ${final.confidence}): ${final.summary}\n${final.rationale}`,
    },
    models: llm.models(),
    usage: llm.usage(),
    calls: llm.calls,
  };
}

import { Router } from 'express';
import { getPortfolio, headToHead, listPortfolioAgents, pricedOn, readScoredDecisions, scorecardOf, type ScoredDecision } from '../../agents/index.ts';
import { agentNameSchema, isRealCalendarDate, tickerSchema } from '../../core/index.ts';
import type { ApiContext } from '../api-context.ts';
import { HttpError, rejectUnknownQuery, withDeadline } from '../http-errors.ts';
import { fromHistory } from '../history-fallback.ts';

/** `from` and `to` (New York dates, inclusive) bound the session of the price each decision saw. */
function sessionWindow(query: Record<string, unknown>): (session: string) => boolean {
  const bound = (field: 'from' | 'to') => {
    const raw = query[field];
    if (raw === undefined) return null;
    if (typeof raw !== 'string' || !isRealCalendarDate(raw)) throw new HttpError(400, `invalid ${field}`, [{ field, message: 'must be a date YYYY-MM-DD' }]);
    return raw;
  };
  const from = bound('from');
  const to = bound('to');
  if (from && to && from > to) throw new HttpError(400, 'invalid to', [{ field: 'to', message: `is before from (${from})` }]);
  return (session) => (!from || session >= from) && (!to || session <= to);
}

export function portfolioRoutes(ctx: ApiContext): Router {
  const router = Router();
  const prefix = ctx.config.QUEUE_PREFIX;
  const agentParam = (raw: string) => {
    const parsed = agentNameSchema.safeParse(raw);
    if (!parsed.success) throw new HttpError(400, 'invalid agent', [{ field: 'agent', message: parsed.error.issues[0]!.message }]);
    return parsed.data;
  };

  router.get('/portfolio', async (req, res) => {
    rejectUnknownQuery(req.query, []);
    const agents = await withDeadline(listPortfolioAgents(ctx.redis, prefix), 2_000);
    const portfolios = await withDeadline(Promise.all(agents.map((a) => getPortfolio(ctx.redis, prefix, a, { trades: 20, curve: 500 }))), 3_000);
    res.json({ portfolios: portfolios.filter((p) => p !== null) });
  });

  router.get('/portfolio/:agent', async (req, res) => {
    rejectUnknownQuery(req.query, []);
    const portfolio = await withDeadline(getPortfolio(ctx.redis, prefix, agentParam(req.params.agent)), 3_000);
    if (!portfolio) throw new HttpError(404, 'no paper portfolio for this agent', [{ field: 'agent', message: `agent "${req.params.agent}" has not traded yet` }]);
    res.json(portfolio);
  });

  /** Where an agent's decisions are read: PostgreSQL by default when there is a durable history. */
  const sourceOf = (raw: unknown): 'history' | 'redis' => {
    if (raw !== undefined && raw !== 'history' && raw !== 'redis') throw new HttpError(400, 'invalid source', [{ field: 'source', message: 'must be history or redis' }]);
    if (raw === 'history' && !ctx.history) throw new HttpError(400, 'invalid source', [{ field: 'source', message: 'no durable history: DATABASE_URL is not set' }]);
    // With durable history the scorecard counts every decision on record, not only those Redis still keeps.
    return ctx.history && raw !== 'redis' ? 'history' : 'redis';
  };
  const decisionsOf = async (agent: string, source: 'history' | 'redis'): Promise<ScoredDecision[]> =>
    source === 'history' ? ((await fromHistory(ctx, (h) => h.scoredDecisions(agent))) ?? []) : await withDeadline(readScoredDecisions(ctx.redis, prefix, agent), 3_000);

  router.get('/agents/:agent/scorecard', async (req, res) => {
    const agent = agentParam(req.params.agent);
    rejectUnknownQuery(req.query, ['source']);
    const source = sourceOf(req.query.source);
    const card = scorecardOf(agent, await decisionsOf(agent, source));
    if (!card) throw new HttpError(404, 'no decisions recorded for this agent', [{ field: 'agent', message: `agent "${req.params.agent}" has no decisions` }]);
    res.json({ ...card, source });
  });

  router.get('/agents/:agent/compare/:other', async (req, res) => {
    const a = agentParam(req.params.agent);
    const b = agentParam(req.params.other);
    if (a === b) throw new HttpError(400, 'invalid agent', [{ field: 'other', message: 'compare an agent with another one' }]);
    rejectUnknownQuery(req.query, ['source', 'from', 'to', 'ticker']);
    const source = sourceOf(req.query.source);
    const window = sessionWindow(req.query);
    const ticker = req.query.ticker === undefined ? null : tickerSchema.safeParse(req.query.ticker);
    if (ticker && !ticker.success) throw new HttpError(400, 'invalid ticker', [{ field: 'ticker', message: ticker.error.issues[0]!.message }]);
    const only = ticker?.data ?? null;
    const keep = (es: ScoredDecision[]) => es.filter((e) => window(pricedOn(e)) && (only === null || e.ticker === only));
    const [ofA, ofB] = await Promise.all([decisionsOf(a, source), decisionsOf(b, source)]);
    for (const [agent, es, field] of [[a, ofA, 'agent'], [b, ofB, 'other']] as const) {
      if (es.length === 0) throw new HttpError(404, 'no decisions recorded for this agent', [{ field, message: `agent "${agent}" has no decisions` }]);
    }
    res.json({ ...headToHead(a, keep(ofA), b, keep(ofB)), source, from: req.query.from ?? null, to: req.query.to ?? null, ticker: only });
  });

  return router;
}

import { Router } from 'express';
import { getPortfolio, getScorecard, listPortfolioAgents, scorecardOf } from '../../agents/index.ts';
import { agentNameSchema } from '../../core/index.ts';
import type { ApiContext } from '../api-context.ts';
import { HttpError, rejectUnknownQuery, withDeadline } from '../http-errors.ts';
import { fromHistory } from '../history-fallback.ts';

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

  router.get('/agents/:agent/scorecard', async (req, res) => {
    const agent = agentParam(req.params.agent);
    rejectUnknownQuery(req.query, ['source']);
    const source = req.query.source;
    if (source !== undefined && source !== 'history' && source !== 'redis') throw new HttpError(400, 'invalid source', [{ field: 'source', message: 'must be history or redis' }]);
    if (source === 'history' && !ctx.history) throw new HttpError(400, 'invalid source', [{ field: 'source', message: 'no durable history: DATABASE_URL is not set' }]);
    // With durable history the scorecard counts every decision on record, not only those Redis still keeps.
    const useHistory = ctx.history && source !== 'redis';
    const card = useHistory
      ? scorecardOf(agent, (await fromHistory(ctx, (h) => h.scoredDecisions(agent))) ?? [])
      : await withDeadline(getScorecard(ctx.redis, prefix, agent), 3_000);
    if (!card) throw new HttpError(404, 'no decisions recorded for this agent', [{ field: 'agent', message: `agent "${req.params.agent}" has no decisions` }]);
    res.json({ ...card, source: useHistory ? 'history' : 'redis' });
  });

  return router;
}

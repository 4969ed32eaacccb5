import { Router } from 'express';
import { listLessons, readDeskRun } from '../../agents/index.ts';
import { agentNameSchema, tickerSchema } from '../../core/index.ts';
import type { ApiContext } from '../api-context.ts';
import { HttpError, rejectUnknownQuery, withDeadline } from '../http-errors.ts';
import { fromHistory } from '../history-fallback.ts';

/** The LLM desk's memory (lessons per agent) and each job's audit trail, finished or not. */
export function deskRoutes(ctx: ApiContext): Router {
  const router = Router();
  const prefix = ctx.config.QUEUE_PREFIX;

  router.get('/agents/:agent/lessons', async (req, res) => {
    const agent = agentNameSchema.safeParse(req.params.agent);
    if (!agent.success) throw new HttpError(400, 'invalid agent', [{ field: 'agent', message: agent.error.issues[0]!.message }]);
    const q = req.query as Record<string, unknown>;
    rejectUnknownQuery(q, ['ticker', 'limit']);
    let ticker: string | undefined;
    if (q.ticker !== undefined) {
      const t = tickerSchema.safeParse(q.ticker);
      if (!t.success) throw new HttpError(400, 'invalid ticker', [{ field: 'ticker', message: t.error.issues[0]!.message }]);
      ticker = t.data;
    }
    const limit = q.limit === undefined ? 50 : Number(q.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw new HttpError(400, 'invalid limit', [{ field: 'limit', message: 'must be an integer from 1 to 500' }]);
    const lessons = await withDeadline(listLessons(ctx.redis, prefix, agent.data, { ticker, limit }), 3_000);
    res.json({ agent: agent.data, lessons });
  });

  router.get('/jobs/:id/reports', async (req, res) => {
    rejectUnknownQuery(req.query, []);
    const id = req.params.id;
    if (!/^[A-Za-z0-9:._-]{1,200}$/.test(id)) throw new HttpError(400, 'invalid job id', [{ field: 'id', message: 'letters, digits, ":", ".", "_" or "-" (max 200)' }]);
    const run = (await withDeadline(readDeskRun(ctx.redis, prefix, id), 3_000)) ?? (await deskRunFromHistory(ctx, id));
    if (!run) throw new HttpError(404, 'no LLM desk reports for this job', [{ field: 'id', message: `job "${id}" ran no LLM desk, or its reports have expired` }]);
    res.json(run);
  });

  return router;
}

/** A finished LLM cycle's audit trail, rebuilt from its durable record once Redis has let it expire. */
async function deskRunFromHistory(ctx: ApiContext, id: string) {
  const kept = await fromHistory(ctx, (h) => h.cycle(id));
  const r = kept?.result;
  if (!kept || !r || r.engine !== 'llm') return null;
  return { job_id: id, agent: r.agent, ticker: r.ticker, date: r.date, attempt: kept.view.attempts, status: 'completed' as const, role_reports: r.role_reports ?? {}, calls: r.calls ?? [], usage: r.usage, job_usage: r.job_usage ?? r.usage, source: 'history' as const };
}

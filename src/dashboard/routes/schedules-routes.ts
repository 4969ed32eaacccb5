import { Router } from 'express';
import { z } from 'zod';
import { MarketCalendar } from '../../calendar/index.ts';
import { BUILTIN_AGENTS, ownEntry, PRIORITY_QUEUE, tickerSchema } from '../../core/index.ts';
import { describeSchedule, describeSchedules, MAX_NEXT_RUNS, readLoadStatus, readPublishedAgents, readPublishedSchedules, setSchedulePaused } from '../../scheduler/index.ts';
import { enqueueManualCycles } from '../../tasks/index.ts';
import { acknowledgeDurably } from '../replica-ack.ts';
import type { ApiContext } from '../api-context.ts';
import { HttpError, rejectUnknownQuery, validationError, withDeadline } from '../http-errors.ts';
import { admitCycles } from './cycle-admission.ts';

const triggerBody = z.object({ ticker: tickerSchema.optional() }).strict();
// A mistyped flag must not enqueue on a closed market as if it had not been asked for.
const triggerQuery = z.object({ respect_market_hours: z.enum(['0', '1', 'true', 'false']).optional() }).strict();
const detailQuery = z.object({ next: z.coerce.number().int().min(1).max(MAX_NEXT_RUNS).default(5) }).strict();
const pauseBody = z.object({ note: z.string().max(500).optional(), by: z.string().min(1).max(100).optional() }).strict();
const DEADLINE_MS = 3_000;

export function schedulesRoutes(ctx: ApiContext): Router {
  const router = Router();
  const calendar = new MarketCalendar({ extraClosures: ctx.config.MARKET_CLOSURES });
  const findEntry = async (id: string) => {
    const entry = (await withDeadline(readPublishedSchedules(ctx.redis, ctx.keys), DEADLINE_MS)).find((e) => e.id === id);
    if (!entry) throw new HttpError(404, 'schedule not found', [{ field: 'id', message: `no schedule "${id}" in the loaded schedule file` }]);
    return entry;
  };

  router.get('/schedules', async (req, res) => {
    rejectUnknownQuery(req.query, []);
    const [schedules, loadStatus] = await withDeadline(Promise.all([describeSchedules(ctx.redis, ctx.keys, ctx.queues, calendar, ctx.now()), readLoadStatus(ctx.redis, ctx.keys)]), DEADLINE_MS);
    // Whether the file loaded cleanly; after a rejected edit, its error (file:line:column field: reason) while the last good schedule runs.
    res.json({ schedules, load_status: loadStatus });
  });

  router.get('/schedules/:id', async (req, res) => {
    const q = detailQuery.safeParse(req.query);
    if (!q.success) throw validationError(q.error, 'query');
    await findEntry(req.params.id);
    const detail = await withDeadline(describeSchedule(ctx.redis, ctx.keys, ctx.queues, calendar, ctx.now(), req.params.id, { next: q.data.next }), DEADLINE_MS);
    if (!detail) throw new HttpError(404, 'schedule not found', [{ field: 'id', message: `no schedule "${req.params.id}" in the loaded schedule file` }]);
    res.json(detail);
  });

  for (const action of ['pause', 'resume'] as const) {
    router.post(`/schedules/:id/${action}`, async (req, res) => {
      const entry = await findEntry(req.params.id);
      const body = pauseBody.safeParse(req.body ?? {});
      if (!body.success) throw validationError(body.error);
      const pause = await withDeadline(setSchedulePaused(ctx.redis, ctx.keys, entry.id, action === 'pause', { by: body.data.by ?? 'api', note: body.data.note, at: ctx.now() }), DEADLINE_MS);
      res.json({ schedule_id: entry.id, paused: action === 'pause', pause });
    });
  }

  router.post('/schedules/:id/trigger', async (req, res) => {
    const entry = await findEntry(req.params.id);
    const query = triggerQuery.safeParse(req.query);
    if (!query.success) throw validationError(query.error, 'query');
    const body = triggerBody.safeParse(req.body ?? {});
    if (!body.success) throw validationError(body.error);
    const tickers = body.data.ticker ? [body.data.ticker] : entry.tickers;
    if (body.data.ticker && !entry.tickers.includes(body.data.ticker)) {
      throw new HttpError(400, 'invalid request body', [{ field: 'ticker', message: `${body.data.ticker} is not in schedule "${entry.id}" (${entry.tickers.join(', ')})` }]);
    }
    const respect = query.data.respect_market_hours === '1' || query.data.respect_market_hours === 'true';
    const now = ctx.now();
    if (respect && !calendar.isOpen(now, entry.market_hours)) {
      throw new HttpError(409, `market is closed for the ${entry.market_hours} session`, [
        { field: 'respect_market_hours', message: `next open ${calendar.nextOpen(now, entry.market_hours).toISOString()}` },
      ]);
    }
    const agents = { ...BUILTIN_AGENTS, ...(await withDeadline(readPublishedAgents(ctx.redis, ctx.keys), DEADLINE_MS)) };
    const profile = ownEntry(agents, entry.agent);
    if (!profile) throw new HttpError(409, `agent "${entry.agent}" is not loaded`);
    await admitCycles(ctx, req, PRIORITY_QUEUE, tickers.length);
    const jobIds = await withDeadline(enqueueManualCycles({ redis: ctx.redis, keys: ctx.keys, queues: ctx.queues }, entry, profile, tickers, now, undefined, ctx.config), DEADLINE_MS);
    await acknowledgeDurably(ctx, PRIORITY_QUEUE, jobIds);
    res.status(202).json({ schedule_id: entry.id, job_ids: jobIds, queue: PRIORITY_QUEUE });
  });

  return router;
}

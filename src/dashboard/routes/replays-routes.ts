import { Router } from 'express';
import { MarketCalendar } from '../../calendar/index.ts';
import { cancelReplay, createReplay, getReplay, listReplays, ReplayRequestError, reportCsv, type ReplayContext } from '../../replay/index.ts';
import type { ApiContext } from '../api-context.ts';
import { HttpError, rejectUnknownQuery, withDeadline } from '../http-errors.ts';
import { fromHistory, HistoryUnavailableError } from '../history-fallback.ts';

const ID = /^[a-z0-9][a-z0-9-]{0,63}$/;
const LIST_LIMIT = 100;

/** Replays: start one (202), list, status and report, JSON and CSV downloads, cancel. */
export function replaysRoutes(ctx: ApiContext): Router {
  const router = Router();
  const rctx: ReplayContext = { redis: ctx.redis, keys: ctx.keys, queues: ctx.queues, calendar: new MarketCalendar({ extraClosures: ctx.config.MARKET_CLOSURES }), now: ctx.now };
  const idParam = (raw: string) => {
    if (!ID.test(raw)) throw new HttpError(400, 'invalid replay id', [{ field: 'id', message: 'must be a replay id as returned by POST /api/replays' }]);
    return raw;
  };
  const found = async (raw: string) => {
    const replay = (await withDeadline(getReplay(rctx, idParam(raw)), 10_000)) ?? (await keptReplay(raw));
    if (!replay) throw new HttpError(404, 'no such replay', [{ field: 'id', message: `replay "${raw}" does not exist` }]);
    return replay;
  };

  // A finished replay Redis no longer holds, as the durable history kept it.
  const keptReplay = async (id: string) => {
    const kept = await fromHistory(ctx, (h) => h.replayReport(id));
    return kept ? (kept.report as NonNullable<Awaited<ReturnType<typeof getReplay>>>) : null;
  };

  router.post('/replays', async (req, res) => {
    try {
      const view = await withDeadline(createReplay(rctx, req.body ?? {}, ctx.config), 5_000);
      res.status(202).location(`/api/replays/${view.replay_id}`).json({ ...view });
    } catch (err) {
      if (err instanceof ReplayRequestError) throw new HttpError(400, 'invalid replay request', err.details);
      throw err;
    }
  });

  router.get('/replays', async (req, res) => {
    rejectUnknownQuery(req.query, []);
    const live = await withDeadline(listReplays(rctx, LIST_LIMIT), 5_000);
    // Finished replays Redis no longer holds, from the durable history, after the ones it does.
    const known = new Set(live.map((r) => r.replay_id));
    // A database that does not answer costs the list its older entries, not the live ones.
    let kept: typeof live = [];
    let unavailable: string | undefined;
    try {
      kept = ((await fromHistory(ctx, (h) => h.replayViews(LIST_LIMIT))) ?? []) as typeof live;
    } catch (err) {
      if (!(err instanceof HistoryUnavailableError)) throw err;
      unavailable = err.details[0]?.message;
    }
    res.json({ replays: [...live, ...kept.filter((r) => !known.has(r.replay_id))].slice(0, LIST_LIMIT), ...(unavailable ? { history_unavailable: unavailable } : {}) });
  });

  router.get('/replays/:id', async (req, res) => {
    rejectUnknownQuery(req.query, []);
    const { view, report } = await found(req.params.id);
    res.json({ ...view, report });
  });

  router.get('/replays/:id/report.json', async (req, res) => {
    rejectUnknownQuery(req.query, []);
    const { report } = await found(req.params.id);
    res.setHeader('Content-Disposition', `attachment; filename="replay-${report.replay_id}.json"`);
    res.json(report);
  });

  router.get('/replays/:id/report.csv', async (req, res) => {
    rejectUnknownQuery(req.query, []);
    const { report } = await found(req.params.id);
    res.setHeader('Content-Disposition', `attachment; filename="replay-${report.replay_id}.csv"`);
    res.type('text/csv').send(reportCsv(report));
  });

  router.delete('/replays/:id', async (req, res) => {
    const outcome = await withDeadline(cancelReplay(rctx, idParam(req.params.id)), 10_000);
    if (!outcome) throw new HttpError(404, 'no such replay', [{ field: 'id', message: `replay "${req.params.id}" does not exist` }]);
    if (outcome === 'finished') throw new HttpError(409, 'replay already ended', [{ field: 'id', message: `replay "${req.params.id}" is no longer running` }]);
    const { view } = await found(req.params.id);
    res.json(view);
  });

  return router;
}

import { Router } from 'express';
import { barSchema, type BarData } from '../../core/index.ts';
import { findJob, resultOf, toJobView } from '../../tasks/index.ts';
import type { ApiContext } from '../api-context.ts';
import { HttpError, rejectUnknownQuery, withDeadline } from '../http-errors.ts';
import { fromHistory } from '../history-fallback.ts';

/** The daily lookback a cycle asks its source for: part of the point-in-time cache key. */
const CYCLE_LOOKBACK = 300;
const CHART_BARS = 130;

export function jobBarsRoutes(ctx: ApiContext): Router {
  const router = Router();

  /**
   * The daily bars a completed cycle analysed, with its indicators, decision and fill, for the job
   * page's chart. They come from the result itself, or for older results from the point-in-time
   * cache entry the cycle read (same source, ticker and date) while it lasts; never refetched, so the
   * chart cannot show prices the decision did not see.
   */
  router.get('/jobs/:id/bars', async (req, res) => {
    rejectUnknownQuery(req.query, []);
    const found = await withDeadline(findJob(ctx.queues, req.params.id), 2_000);
    // A job Redis no longer holds: its result (bars included) as the durable history kept it.
    const kept = found ? null : await fromHistory(ctx, (h) => h.cycle(req.params.id));
    if (!found && !kept) throw new HttpError(404, 'job not found', [{ field: 'id', message: `no job ${req.params.id}` }]);
    const result = found ? resultOf(found.job) : kept!.result;
    if (!result) {
      const status = found ? toJobView(found.job, found.state, found.queue).status : kept!.view.status;
      throw new HttpError(409, `job is ${status}; it has no bars`, [{ field: 'status', message: status }]);
    }
    let bars: BarData[] | null = result.bars ?? null;
    let from: 'result' | 'cache' = 'result';
    if (!bars) {
      const cached = await ctx.redis.get(ctx.keys.custom('cache', result.data_source, 'daily', result.ticker, result.date, String(CYCLE_LOOKBACK)));
      const parsed = cached ? barSchema.array().safeParse(JSON.parse(cached)) : null;
      if (!parsed?.success) {
        throw new HttpError(404, 'the bars of this cycle are no longer available', [
          { field: 'bars', message: `the result does not carry them and the ${result.data_source} cache for ${result.ticker} on ${result.date} has expired` },
        ]);
      }
      bars = parsed.data.slice(-CHART_BARS);
      from = 'cache';
    }
    res.json({
      job_id: req.params.id,
      ticker: result.ticker,
      date: result.date,
      data_source: result.data_source,
      bars_from: from,
      bars,
      indicators: result.indicators,
      decision: result.decision,
      price: result.price,
      decided_at: result.finished_at,
      fill: result.fill,
    });
  });

  return router;
}

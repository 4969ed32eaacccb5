import { Router } from 'express';
import { z } from 'zod';
import { HistoryCursorError } from '../../history/index.ts';
import type { ApiContext } from '../api-context.ts';
import { fromHistory } from '../history-fallback.ts';
import { HttpError } from '../http-errors.ts';
import { jobFilterFields, parseJobFilter } from '../job-filter-query.ts';

const historyQuery = z.object(jobFilterFields).strict();

/** Every finished cycle on record in PostgreSQL, newest first, whichever host ran it and however old. */
export function historyRoutes(ctx: ApiContext): Router {
  const router = Router();
  router.get('/history', async (req, res) => {
    if (!ctx.history) throw new HttpError(404, 'durable history is not configured', [{ field: 'DATABASE_URL', message: 'set DATABASE_URL to a PostgreSQL database to keep every finished cycle' }]);
    const q = parseJobFilter(historyQuery, req.query);
    try {
      res.json(await fromHistory(ctx, (h) => h.cycles(q)));
    } catch (err) {
      if (err instanceof HistoryCursorError) throw new HttpError(400, 'invalid request query', [{ field: 'cursor', message: 'is not a cursor returned by this API' }]);
      throw err;
    }
  });
  return router;
}

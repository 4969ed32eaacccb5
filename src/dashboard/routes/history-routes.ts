import { Router } from 'express';
import { z } from 'zod';
import { agentNameSchema, DECISIONS, JOB_STATUSES, tickerSchema } from '../../core/index.ts';
import { HistoryCursorError } from '../../history/index.ts';
import type { ApiContext } from '../api-context.ts';
import { createdBound } from '../created-bound.ts';
import { fromHistory } from '../history-fallback.ts';
import { HttpError, validationError } from '../http-errors.ts';

const historyQuery = z
  .object({
    status: z.enum(JOB_STATUSES).optional(),
    ticker: tickerSchema.optional(),
    agent: agentNameSchema.optional(),
    schedule: z.string().min(1).max(64).optional(),
    decision: z.enum(DECISIONS).optional(),
    from: createdBound('start').optional(),
    to: createdBound('end').optional(),
    limit: z.coerce.number().int().min(1).max(500).default(50),
    cursor: z.string().max(500).optional(),
  })
  .strict();

/** Every finished cycle on record in PostgreSQL, newest first, whichever host ran it and however old. */
export function historyRoutes(ctx: ApiContext): Router {
  const router = Router();
  router.get('/history', async (req, res) => {
    if (!ctx.history) throw new HttpError(404, 'durable history is not configured', [{ field: 'DATABASE_URL', message: 'set DATABASE_URL to a PostgreSQL database to keep every finished cycle' }]);
    const q = historyQuery.safeParse(req.query);
    if (!q.success) throw validationError(q.error, 'query');
    if (q.data.from !== undefined && q.data.to !== undefined && q.data.from >= q.data.to) {
      throw new HttpError(400, 'invalid request query', [{ field: 'to', message: 'must be after from' }]);
    }
    try {
      res.json(await fromHistory(ctx, (h) => h.cycles(q.data)));
    } catch (err) {
      if (err instanceof HistoryCursorError) throw new HttpError(400, 'invalid request query', [{ field: 'cursor', message: 'is not a cursor returned by this API' }]);
      throw err;
    }
  });
  return router;
}

import { Router } from 'express';
import { MarketCalendar } from '../../calendar/index.ts';
import type { ApiContext } from '../api-context.ts';
import { HttpError } from '../http-errors.ts';

export function marketRoutes(ctx: ApiContext): Router {
  const router = Router();
  const calendar = new MarketCalendar({ extraClosures: ctx.config.MARKET_CLOSURES });

  router.get('/market/status', (req, res) => {
    const raw = req.query.at;
    let at = ctx.now();
    if (raw !== undefined) {
      const parsed = typeof raw === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(raw) ? new Date(raw) : new Date(NaN);
      if (Number.isNaN(parsed.getTime())) {
        throw new HttpError(400, 'invalid query', [{ field: 'at', message: 'must be an ISO-8601 date-time, e.g. 2026-11-27T10:00:00-05:00' }]);
      }
      at = parsed;
    }
    res.json(calendar.status(at));
  });

  return router;
}

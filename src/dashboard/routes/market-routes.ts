import { Router } from 'express';
import { MarketCalendar } from '../../calendar/index.ts';
import type { ApiContext } from '../api-context.ts';
import { HttpError, rejectUnknownQuery } from '../http-errors.ts';

export function marketRoutes(ctx: ApiContext): Router {
  const router = Router();
  const calendar = new MarketCalendar({ extraClosures: ctx.config.MARKET_CLOSURES });

  router.get('/market/status', (req, res) => {
    rejectUnknownQuery(req.query, ['at']);
    const raw = req.query.at;
    let at = ctx.now();
    if (raw !== undefined) {
      // An offset is required: without one, Date would read the time in the server's own zone.
      const ok = typeof raw === 'string' && /^\d{4}-\d{2}-\d{2}T[^ ]*(Z|[+-]\d{2}:?\d{2})$/.test(raw);
      const parsed = ok ? new Date(raw) : new Date(NaN);
      if (Number.isNaN(parsed.getTime())) {
        // A "+" in a query string arrives as a space: say so rather than only "invalid".
        const hint = typeof raw === 'string' && / \d{2}:?\d{2}$/.test(raw) ? ' (a "+" in the address must be sent as %2B)' : '';
        throw new HttpError(400, 'invalid query', [{ field: 'at', message: `must be an ISO-8601 date-time with an offset, e.g. 2026-11-27T10:00:00-05:00 or …Z${hint}` }]);
      }
      at = parsed;
    }
    res.json(calendar.status(at));
  });

  return router;
}

import { DateTime } from 'luxon';
import { z } from 'zod';

const ZONE = 'America/New_York';

/**
 * A date-range bound of the job list, as epoch ms: a New York date (YYYY-MM-DD) means that whole day
 * (`start` of `from`, end of `to`, so from=to=D lists D), an ISO-8601 date-time is taken as it is.
 */
export function createdBound(side: 'start' | 'end') {
  return z.string().transform((text, ctx) => {
    if (/^\d{4}-\d{2}-\d{2}$/.test(text)) {
      const day = DateTime.fromISO(text, { zone: ZONE });
      if (day.isValid) return (side === 'start' ? day : day.plus({ days: 1 })).toMillis();
    } else if (/^\d{4}-\d{2}-\d{2}T/.test(text)) {
      const at = DateTime.fromISO(text, { setZone: true });
      if (at.isValid && /(Z|[+-]\d{2}:?\d{2})$/.test(text)) return at.toMillis();
    }
    // A "+" in a query string arrives as a space: say so rather than only "invalid".
    const hint = / \d{2}:?\d{2}$/.test(text) ? ' (a "+" in the address must be sent as %2B)' : '';
    ctx.addIssue({ code: 'custom', message: `must be a New York date (YYYY-MM-DD) or an ISO-8601 date-time with an offset${hint}` });
    return z.NEVER;
  });
}

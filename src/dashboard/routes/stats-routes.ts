import { Router } from 'express';
import { z } from 'zod';
import { readThroughput } from '../../core/index.ts';
import type { ApiContext } from '../api-context.ts';
import { validationError, withDeadline } from '../http-errors.ts';

/** Each chart range with the bucket that keeps it around 60–170 points. */
const RANGES = {
  '1h': { ms: 3_600_000, bucketMs: 60_000 },
  '6h': { ms: 6 * 3_600_000, bucketMs: 5 * 60_000 },
  '24h': { ms: 24 * 3_600_000, bucketMs: 15 * 60_000 },
  '7d': { ms: 7 * 24 * 3_600_000, bucketMs: 3_600_000 },
} as const;

const throughputQuery = z.object({ range: z.enum(Object.keys(RANGES) as [keyof typeof RANGES, ...Array<keyof typeof RANGES>]).default('1h') }).strict();

export function statsRoutes(ctx: ApiContext): Router {
  const router = Router();

  // Counted by the workers in Redis as each cycle ends, so the chart covers every job, not a recent page.
  router.get('/stats/throughput', async (req, res) => {
    const q = throughputQuery.safeParse(req.query);
    if (!q.success) throw validationError(q.error, 'query');
    const { ms, bucketMs } = RANGES[q.data.range];
    const now = ctx.now().getTime();
    const to = Math.floor(now / bucketMs) * bucketMs + bucketMs;
    const buckets = await withDeadline(readThroughput(ctx.redis, ctx.keys, to - ms, to, bucketMs), 3_000);
    const totals = { completed: 0, failed: 0, skipped: 0, cancelled: 0 };
    for (const b of buckets) for (const k of Object.keys(totals) as Array<keyof typeof totals>) totals[k] += b[k];
    res.json({ range: q.data.range, bucket_s: bucketMs / 1000, time_zone: 'America/New_York', from: new Date(to - ms).toISOString(), to: new Date(to).toISOString(), totals, buckets });
  });

  return router;
}

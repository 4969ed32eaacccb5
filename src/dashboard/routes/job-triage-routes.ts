import { Router } from 'express';
import { z } from 'zod';
import { findJob, retryJob } from '../../tasks/index.ts';
import type { ApiContext } from '../api-context.ts';
import { HttpError, validationError, withDeadline } from '../http-errors.ts';

const DEADLINE_MS = 3_000;
const logsQuery = z.object({ start: z.coerce.number().int().min(0).default(0), limit: z.coerce.number().int().min(1).max(1000).default(200) }).strict();

/** Triage of one job: retry a failed or cancelled one, read the log lines it wrote. */
export function jobTriageRoutes(ctx: ApiContext): Router {
  const router = Router();
  const store = { redis: ctx.redis, keys: ctx.keys, queues: ctx.queues };

  router.post('/jobs/:id/retry', async (req, res) => {
    const r = await withDeadline(retryJob(store, req.params.id, ctx.now()), DEADLINE_MS);
    if (!r) throw new HttpError(404, 'job not found', [{ field: 'id', message: `no job ${req.params.id}` }]);
    if (r.outcome === 'refused') {
      const retriable = r.view.status === 'failed' || r.view.status === 'cancelled';
      const why = retriable ? `job cannot be retried: ${r.view.error ?? 'it changed state meanwhile'}` : `job is ${r.view.status}: only a failed or cancelled job can be retried`;
      throw new HttpError(409, why, [{ field: 'status', message: r.view.status }]);
    }
    res.status(202).location(`/api/jobs/${r.view.job_id}`).json({ ...r.view, retried: true });
  });

  router.get('/jobs/:id/logs', async (req, res) => {
    const q = logsQuery.safeParse(req.query);
    if (!q.success) throw validationError(q.error, 'query');
    const found = await withDeadline(findJob(ctx.queues, req.params.id), DEADLINE_MS);
    if (!found) throw new HttpError(404, 'job not found', [{ field: 'id', message: `no job ${req.params.id}` }]);
    const { logs, count } = await withDeadline(ctx.queues[found.queue].getJobLogs(req.params.id, q.data.start, q.data.start + q.data.limit - 1, true), DEADLINE_MS);
    res.json({ job_id: req.params.id, logs, count });
  });

  return router;
}

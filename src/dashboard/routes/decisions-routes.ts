import { Router } from 'express';
import { z } from 'zod';
import { listPendingApprovals } from '../../core/index.ts';
import { decideApproval } from '../../tasks/index.ts';
import type { ApiContext } from '../api-context.ts';
import { HttpError, rejectUnknownQuery, validationError, withDeadline } from '../http-errors.ts';

const settleBody = z.object({ by: z.string().min(1).max(100).optional(), note: z.string().max(500).optional() }).strict();

/** Decisions waiting for a human: list them, approve (fills the paper ledger) or reject. */
export function decisionsRoutes(ctx: ApiContext): Router {
  const router = Router();

  router.get('/decisions', async (req, res) => {
    rejectUnknownQuery(req.query, []);
    res.json({ pending: await withDeadline(listPendingApprovals(ctx.redis, ctx.keys, ctx.now()), 3_000) });
  });

  for (const action of ['approve', 'reject'] as const) {
    router.post(`/decisions/:job_id/${action}`, async (req, res) => {
      const body = settleBody.safeParse(req.body ?? {});
      if (!body.success) throw validationError(body.error);
      const r = await withDeadline(decideApproval(ctx, req.params.job_id, action, { by: body.data.by ?? 'api', note: body.data.note, now: ctx.now() }), 10_000);
      if (!r) throw new HttpError(404, 'no decision awaiting approval for this job', [{ field: 'job_id', message: `no held decision for job ${req.params.job_id}` }]);
      if (r.outcome === 'refused') throw new HttpError(409, `decision is already ${r.approval.status}`, [{ field: 'status', message: r.approval.status }]);
      res.json(r.approval);
    });
  }
  return router;
}

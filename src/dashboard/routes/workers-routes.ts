import { Router } from 'express';
import { QUEUE_NAMES } from '../../core/index.ts';

const QUEUE_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'completed', 'failed', 'waiting-children'] as const;
import { readWorkers } from '../../tasks/index.ts';
import type { ApiContext } from '../api-context.ts';
import { rejectUnknownQuery, withDeadline } from '../http-errors.ts';

export function workersRoutes(ctx: ApiContext): Router {
  const router = Router();

  router.get('/workers', async (req, res) => {
    rejectUnknownQuery(req.query, []);
    const workers = await withDeadline(readWorkers(ctx.redis, ctx.keys), 2_000);
    res.json({ workers, online: workers.filter((w) => w.online).length, offline: workers.filter((w) => !w.online).length });
  });

  router.get('/queues', async (req, res) => {
    rejectUnknownQuery(req.query, []);
    const queues = await withDeadline(
      Promise.all(
        QUEUE_NAMES.map(async (name) => {
          const q = ctx.queues[name];
          const [counts, paused] = await Promise.all([
            q.getJobCounts(...QUEUE_STATES),
            q.isPaused(),
          ]);
          // BullMQ 6 has no paused list: a paused queue's waiting jobs are the ones it holds back.
          return { name, paused, counts: { ...counts, paused: paused ? (counts.waiting ?? 0) + (counts.prioritized ?? 0) : 0 } };
        }),
      ),
      2_000,
    );
    res.json({ queues });
  });

  return router;
}

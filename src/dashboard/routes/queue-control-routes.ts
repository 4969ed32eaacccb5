import { Router } from 'express';
import { isQueueName, QUEUE_NAMES } from '../../core/index.ts';
import { setQueuePaused } from '../../tasks/index.ts';
import type { ApiContext } from '../api-context.ts';
import { HttpError, withDeadline } from '../http-errors.ts';

/** Pause and resume a queue at run time (what Flower's and Bull Board's queue buttons do). */
export function queueControlRoutes(ctx: ApiContext): Router {
  const router = Router();
  for (const action of ['pause', 'resume'] as const) {
    router.post(`/queues/:name/${action}`, async (req, res) => {
      const name = req.params.name;
      if (!isQueueName(name)) throw new HttpError(404, 'queue not found', [{ field: 'name', message: `no queue "${name}" (queues: ${QUEUE_NAMES.join(', ')})` }]);
      res.json(await withDeadline(setQueuePaused(ctx.queues, ctx.redis, ctx.keys, name, action === 'pause', 'api'), 3_000));
    });
  }
  return router;
}

import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Express, RequestHandler } from 'express';
import type { QueueSet } from '../tasks/index.ts';
import { HttpError } from './http-errors.ts';

export const BULL_BOARD_PATH = '/admin/queues';

const QUEUE_NOTE = 'Job schedulers come from schedules.yaml: edit the file (it hot-reloads) or use Pause/Resume on the tradeloop overview.';

/**
 * Bull Board's scheduler view can edit or remove a job scheduler, but the scheduler's reconcile and
 * watchdog put the schedules.yaml version back on the next pass: such an edit would look saved and then
 * silently revert. Refuse it with the reason instead; "run now" stays allowed (it only adds a job).
 */
export const schedulerEditGuard: RequestHandler = (req, _res, next) => {
  const edit = /^\/api\/queues\/[^/]+\/job-schedulers\/[^/]+(\/remove)?$/.test(req.path);
  if (edit && req.method !== 'GET' && req.method !== 'HEAD') {
    return next(new HttpError(403, 'job schedulers are managed by schedules.yaml', [{ field: 'scheduler', message: QUEUE_NOTE }]));
  }
  next();
};

/**
 * Mounts Bull Board for every product queue; `readOnly` truly blocks its write endpoints. `basePath`
 * (BASE_PATH) is where the app itself is mounted: Bull Board's page needs the full public path.
 */
export function mountBullBoard(app: Express, queues: QueueSet, readOnly: boolean, basePath = ''): void {
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(`${basePath}${BULL_BOARD_PATH}`);
  createBullBoard({
    queues: Object.values(queues).map(
      (q) =>
        new BullMQAdapter(q, {
          readOnlyMode: readOnly,
          description: QUEUE_NOTE,
          // Each job links to our job page (decision, reports, progress).
          externalJobUrl: (job) => ({ href: `${basePath}/jobs/${encodeURIComponent(String(job.id ?? ''))}`, displayText: 'tradeloop job page' }),
        }),
    ),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'tradeloop', miscLinks: [{ text: 'tradeloop overview', url: `${basePath}/` }], hideDocsLink: true } },
  });
  const board = serverAdapter.getRouter() as Express;
  board.disable('x-powered-by');
  app.use(BULL_BOARD_PATH, schedulerEditGuard, board);
}

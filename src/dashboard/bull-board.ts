import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Express } from 'express';
import type { QueueSet } from '../tasks/index.ts';

export const BULL_BOARD_PATH = '/admin/queues';

/** Mounts Bull Board for every product queue; `readOnly` truly blocks its write endpoints. */
export function mountBullBoard(app: Express, queues: QueueSet, readOnly: boolean): void {
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(BULL_BOARD_PATH);
  createBullBoard({
    queues: Object.values(queues).map((q) => new BullMQAdapter(q, { readOnlyMode: readOnly })),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'tradeloop' } },
  });
  app.use(BULL_BOARD_PATH, serverAdapter.getRouter());
}

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { closeQueues, createRedisConnection, openQueues, productKeys, type Config } from '../src/core/index.ts';
import { createApp } from '../src/dashboard/index.ts';
import { LiveEvents } from '../src/dashboard/live-events.ts';
import { startWorkers, type WorkerService } from '../src/tasks/index.ts';
import { silent, waitUntil } from './bench-context.ts';

/** The dashboard's app on a free port, with an optional worker, all in this process. */
export async function startApiStack(cfg: Config, worker: { sandbox: boolean; concurrency: number } | null) {
  const redis = createRedisConnection(cfg, 'producer');
  await waitUntil(async () => redis.status === 'ready', 5_000);
  const queues = openQueues(redis, cfg.QUEUE_PREFIX);
  const keys = productKeys(cfg.QUEUE_PREFIX);
  const live = new LiveEvents(cfg, keys, queues, silent);
  const app = createApp({ config: cfg, logger: silent, redis, keys, queues, now: () => new Date() }, { live });
  const server = http.createServer(app).listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const svc: WorkerService | null = worker ? await startWorkers(cfg, silent, { ...worker, queues: ['trading-cycle-priority'] }) : null;
  return {
    base,
    live,
    queues,
    redis,
    worker: svc,
    async close() {
      await svc?.stop();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await live.close();
      await closeQueues(queues);
      redis.disconnect();
    },
  };
}

import type { Server } from 'node:http';
import {
  ackReplicas,
  closeQueues,
  connectedReplicas,
  ConfigError,
  createRedisConnection,
  describeRedis,
  isLoopbackHost,
  openQueues,
  productKeys,
  type Config,
  type Logger,
  type RunningService,
} from '../core/index.ts';
import { openHistory } from '../history/index.ts';
import { createApp } from './app.ts';
import { mountBullBoard } from './bull-board.ts';
import { LiveEvents } from './live-events.ts';

export interface DashboardService extends RunningService {
  readonly url: string;
  readonly server: Server;
}

export async function startDashboard(config: Config, logger: Logger): Promise<DashboardService> {
  if (!isLoopbackHost(config.HOST) && !config.DASHBOARD_TOKEN) {
    throw new ConfigError(`HOST=${config.HOST} is reachable beyond this machine: set DASHBOARD_TOKEN (16+ characters) to protect the dashboard and API`);
  }
  const redis = createRedisConnection(config, 'producer');
  const queues = openQueues(redis, config.QUEUE_PREFIX);
  const ack = ackReplicas(config);
  redis.once('ready', () => {
    if (typeof ack !== 'number' || ack <= 0) return;
    void connectedReplicas(redis).then((n) => {
      if (n > ack) logger.warn({ replicas: n, REDIS_ACK_REPLICAS: ack }, `the primary has ${n} replicas but a 202 waits for ${ack}: a failover to a replica that did not confirm loses acknowledged jobs; set REDIS_ACK_REPLICAS=${n}`);
    }, () => undefined);
  });
  // Durable history (DATABASE_URL): reads of jobs Redis no longer holds, the scorecard, kept replay reports.
  const history = openHistory(config, logger);
  const ctx = { config, logger, redis, keys: productKeys(config.QUEUE_PREFIX), queues, now: () => new Date(), history };
  const live = new LiveEvents(config, ctx.keys, queues, logger);
  const app = createApp(ctx, { live, mount: (a) => mountBullBoard(a, queues, config.DASHBOARD_READONLY, config.BASE_PATH) });
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(config.PORT, config.HOST, () => resolve(s));
    s.once('error', reject);
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.PORT;
  const url = `http://${config.HOST.includes(':') ? `[${config.HOST}]` : config.HOST}:${port}${config.BASE_PATH}`;
  logger.info({ url, redis: describeRedis(config), ...(history ? { history: history.where } : {}) }, `dashboard listening on ${url} (Bull Board at ${url}/admin/queues${config.DASHBOARD_READ_TOKEN ? '; read-only token enabled' : ''})`);
  return {
    url,
    server,
    async stop() {
      server.closeAllConnections?.();
      await new Promise<void>((r) => server.close(() => r()));
      await live.close();
      await closeQueues(queues);
      await history?.close();
      redis.disconnect();
    },
  };
}

import express, { type Express } from 'express';
import { isRedisReady } from '../core/index.ts';
import type { ApiContext } from './api-context.ts';
import { errorHandler, notFoundHandler, RedisUnavailableError } from './http-errors.ts';
import { jobsRoutes } from './routes/jobs-routes.ts';
import { marketRoutes } from './routes/market-routes.ts';
import { portfolioRoutes } from './routes/portfolio-routes.ts';
import { schedulesRoutes } from './routes/schedules-routes.ts';
import { workersRoutes } from './routes/workers-routes.ts';
import { requireToken } from './auth.ts';

/** The HTTP app: JSON API under /api, health probes; Bull Board is mounted by the server. */
export function createApp(ctx: ApiContext, mount: (app: Express) => void = () => {}): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);

  app.get('/healthz', (_req, res) => {
    res.json({ ok: true, uptime_s: Math.round(process.uptime()) });
  });
  app.get('/readyz', (_req, res) => {
    if (!isRedisReady(ctx.redis)) {
      res.status(503).json({ ready: false, error: 'redis unreachable', details: [{ field: 'redis', message: ctx.redis.status }] });
      return;
    }
    res.json({ ready: true });
  });

  app.use(requireToken(ctx.config.DASHBOARD_TOKEN));
  const api = express.Router();
  api.use(express.json({ limit: '100kb', strict: true }));
  // A quick 503 while Redis is down, rather than waiting on a connection that is not there.
  api.use((_req, _res, next) => next(isRedisReady(ctx.redis) ? undefined : new RedisUnavailableError()));
  api.use(jobsRoutes(ctx));
  api.use(schedulesRoutes(ctx));
  api.use(marketRoutes(ctx));
  api.use(workersRoutes(ctx));
  api.use(portfolioRoutes(ctx));
  app.use('/api', api);
  mount(app);
  app.use(notFoundHandler);
  app.use(errorHandler(ctx.logger));
  return app;
}

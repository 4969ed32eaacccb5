import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type Express } from 'express';
import { isRedisReady } from '../core/index.ts';
import { readLoadStatus } from '../scheduler/index.ts';
import type { ApiContext } from './api-context.ts';
import { readOnlyGuard, requireAuth, SESSION_COOKIE, sessionValue, tokenMatches } from './auth.ts';
import { errorHandler, HttpError, notFoundHandler, RedisUnavailableError } from './http-errors.ts';
import type { LiveEvents } from './live-events.ts';
import { createMetrics } from './metrics.ts';
import { openApiDocument } from './openapi.ts';
import { loginPage, shellPage } from './pages.ts';
import { replaysPage } from './replays-page.ts';
import { API_ROUTERS } from './routes/api-routers.ts';

const PUBLIC_DIR = join(dirname(fileURLToPath(import.meta.url)), 'public');
const UPLOT_DIR = dirname(createRequire(import.meta.url).resolve('uplot/dist/uPlot.iife.min.js'));

export interface AppExtras {
  /** Live events (SSE and metrics histograms); the server creates one, tests may pass theirs. */
  live?: LiveEvents;
  /** Mounts Bull Board (after auth). */
  mount?: (app: Express) => void;
}

/** The HTTP app: JSON API under /api, pages, SSE, metrics, health; Bull Board mounted by the server. */
export function createApp(ctx: ApiContext, extras: AppExtras = {}): Express {
  const app = express();
  const { config } = ctx;
  app.disable('x-powered-by');
  app.set('trust proxy', false);

  app.get('/healthz', (_req, res) => {
    res.json({ ok: true, uptime_s: Math.round(process.uptime()) });
  });
  app.get('/readyz', async (_req, res) => {
    if (!isRedisReady(ctx.redis)) {
      res.status(503).json({ ready: false, error: 'redis unreachable', details: [{ field: 'redis', message: ctx.redis.status }] });
      return;
    }
    const status = await readLoadStatus(ctx.redis, ctx.keys).catch(() => null);
    if (!status) {
      res.status(503).json({ ready: false, error: 'no schedule loaded yet', details: [{ field: 'schedules', message: 'the scheduler has not published a schedule' }] });
      return;
    }
    res.json({ ready: true, schedules: status.schedules, schedule_file_ok: status.ok, loaded_at: status.loaded_at, ...(status.error ? { schedule_error: status.error } : {}) });
  });

  app.use('/assets', express.static(PUBLIC_DIR, { maxAge: '1h' }));
  app.use('/assets/uplot', express.static(UPLOT_DIR, { maxAge: '1d' }));

  // Login: the form posts the token; the cookie holds an HMAC of it (HttpOnly, SameSite=Strict).
  app.get('/login', (req, res) => {
    res.type('html').send(loginPage(String(req.query.next ?? '/'), req.query.error === '1'));
  });
  app.post('/login', express.urlencoded({ extended: false, limit: '4kb' }), (req, res) => {
    const next = typeof req.body?.next === 'string' && req.body.next.startsWith('/') && !req.body.next.startsWith('//') ? req.body.next : '/';
    if (!config.DASHBOARD_TOKEN || tokenMatches(config.DASHBOARD_TOKEN, String(req.body?.token ?? ''))) {
      if (config.DASHBOARD_TOKEN) {
        const secure = req.secure ? '; Secure' : '';
        res.setHeader('Set-Cookie', `${SESSION_COOKIE}=${sessionValue(config.DASHBOARD_TOKEN)}; HttpOnly; SameSite=Strict; Path=/; Max-Age=604800${secure}`);
      }
      res.redirect(303, next);
      return;
    }
    res.redirect(303, `/login?error=1&next=${encodeURIComponent(next)}`);
  });
  app.post('/logout', (_req, res) => {
    res.setHeader('Set-Cookie', `${SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0`);
    res.redirect(303, '/login');
  });

  const metrics = extras.live ? createMetrics(ctx, extras.live) : null;
  const serveMetrics: express.RequestHandler = async (_req, res, next) => {
    if (!metrics) return next(new HttpError(404, 'metrics not enabled'));
    if (!isRedisReady(ctx.redis)) return next(new RedisUnavailableError());
    try {
      res.type(metrics.contentType).send(await metrics.metrics());
    } catch (err) {
      next(err);
    }
  };
  if (config.METRICS_PUBLIC) app.get('/metrics', serveMetrics);

  app.use(requireAuth(config.DASHBOARD_TOKEN));
  if (!config.METRICS_PUBLIC) app.get('/metrics', serveMetrics);
  app.use(readOnlyGuard(config.DASHBOARD_READONLY));

  app.get('/', (_req, res) => {
    res.type('html').send(shellPage('overview', { readOnly: config.DASHBOARD_READONLY, auth: Boolean(config.DASHBOARD_TOKEN) }));
  });
  app.get(['/replays', '/replays/:id'], (_req, res) => void res.type('html').send(replaysPage({ readOnly: config.DASHBOARD_READONLY })));
  app.get('/jobs/:id', (_req, res) => {
    res.type('html').send(shellPage('job', { readOnly: config.DASHBOARD_READONLY, auth: Boolean(config.DASHBOARD_TOKEN) }));
  });

  const api = express.Router();
  api.get('/openapi.json', (_req, res) => {
    res.json(openApiDocument());
  });
  api.get('/events', (req, res) => {
    if (!extras.live) throw new HttpError(404, 'live events not enabled');
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache, no-transform', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
    res.write(`retry: 3000\n: connected\n\n`);
    const off = extras.live.on((e) => res.write(`event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`));
    const beat = setInterval(() => res.write(`: keep-alive ${Date.now()}\n\n`), 15_000);
    req.on('close', () => {
      off();
      clearInterval(beat);
    });
  });
  api.use(express.json({ limit: '100kb', strict: true }));
  // A quick 503 while Redis is down, rather than waiting on a connection that is not there.
  api.use((_req, _res, next) => next(isRedisReady(ctx.redis) ? undefined : new RedisUnavailableError()));
  for (const routes of API_ROUTERS) api.use(routes(ctx));
  app.use('/api', api);
  extras.mount?.(app);
  app.use(notFoundHandler);
  app.use(errorHandler(ctx.logger));
  return app;
}

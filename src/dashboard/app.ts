import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type Express } from 'express';
import helmet from 'helmet';
import { isRedisReady } from '../core/index.ts';
import { outboxDepth } from '../history/index.ts';
import { readLoadStatus, readSourceConflicts } from '../scheduler/index.ts';
import type { ApiContext } from './api-context.ts';
import { readOnlyGuard, readSessionCookie, requireAuth, roleForToken, roleOf, safeNext, SESSION_COOKIE } from './auth.ts';
import { withBasePath } from './base-path.ts';
import { eventStream } from './event-stream.ts';
import { errorHandler, HttpError, notFoundHandler, rejectUnknownQuery, RedisUnavailableError } from './http-errors.ts';
import type { LiveEvents } from './live-events.ts';
import { methodNotAllowed } from './method-not-allowed.ts';
import { createMetrics } from './metrics.ts';
import { openApiDocument } from './openapi.ts';
import { loginPage, shellPage, type PageView } from './pages.ts';
import { crossSiteGuard, hostGuard } from './request-guard.ts';
import { RequestLimits } from './request-limits.ts';
import { API_ROUTERS } from './routes/api-routers.ts';
import { mountVendorAssets } from './vendor-assets.ts';
import { SessionStore } from './session-store.ts';

const PUBLIC_DIR = join(dirname(fileURLToPath(import.meta.url)), 'public');

export interface AppExtras {
  /** Live events (SSE and metrics histograms); the server creates one, tests may pass theirs. */
  live?: LiveEvents;
  /** Mounts Bull Board (after auth). */
  mount?: (app: Express) => void;
}

/**
 * Security headers (helmet): a strict script policy for our pages and Bull Board's (neither runs inline
 * scripts); Bull Board's inline styles and web fonts allowed. HSTS only where TLS is in front of us.
 */
function securityHeaders(behindProxy: boolean): express.RequestHandler {
  return helmet({
    contentSecurityPolicy: {
      directives: {
        'script-src': ["'self'"],
        'style-src': ["'self'", "'unsafe-inline'", 'https://fonts.googleapis.com'],
        'font-src': ["'self'", 'data:', 'https://fonts.gstatic.com'],
        'img-src': ["'self'", 'data:'],
        'connect-src': ["'self'"],
        'frame-ancestors': ["'none'"],
        // Plain http on loopback is the default install: upgrading its sub-resources would break it.
        'upgrade-insecure-requests': behindProxy ? [] : null,
      },
    },
    strictTransportSecurity: behindProxy,
    referrerPolicy: { policy: 'same-origin' },
  });
}

/**
 * The HTTP app: JSON API under /api, pages, SSE, metrics, health; Bull Board mounted by the server.
 * Every request first passes the Host allow-list, the security headers and the cross-site refusal;
 * with BASE_PATH everything is served under that prefix.
 */
export function createApp(ctx: ApiContext, extras: AppExtras = {}): Express {
  const { config } = ctx;
  const base = config.BASE_PATH;
  const root = express();
  const app = base ? express() : root;
  for (const a of new Set([root, app])) {
    a.disable('x-powered-by');
    a.set('trust proxy', config.TRUST_PROXY);
  }
  root.use(hostGuard(config.ALLOWED_HOSTS));
  root.use(securityHeaders(config.TRUST_PROXY !== false));
  root.use(crossSiteGuard);
  if (base) {
    root.use(base, app);
    root.get('/', (_req, res) => res.redirect(302, `${base}/`));
    root.use(notFoundHandler);
    root.use(errorHandler(ctx.logger));
  }
  const sessions = new SessionStore(ctx.redis, ctx.keys, config.SESSION_TTL_HOURS * 3600);
  const limits = ctx.limits ?? new RequestLimits(ctx.redis, ctx.keys, config);
  const routeCtx: ApiContext = { ...ctx, limits };
  const page = (html: string) => withBasePath(html, base);

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
    // A scheduler whose file differs from the published one is reported, not fatal: the published schedule runs.
    const conflicts = await readSourceConflicts(ctx.redis, ctx.keys, ctx.now()).catch(() => []);
    // The durable history is reported, not fatal: while PostgreSQL is away records wait in the outbox.
    const history = ctx.history
      ? await Promise.all([ctx.history.check(1_500), outboxDepth(ctx.redis, ctx.keys).catch(() => null)]).then(([check, depth]) => ({
          database: ctx.history!.where,
          reachable: check.ok,
          outbox_depth: depth,
          ...(check.ok ? {} : { error: check.error }),
        }))
      : null;
    res.json({
      ready: true,
      schedules: status.schedules,
      schedule_file_ok: status.ok,
      loaded_at: status.loaded_at,
      ...(status.hash ? { schedule_hash: status.hash } : {}),
      ...(status.error ? { schedule_error: status.error } : {}),
      ...(history ? { history, ...(history.reachable ? {} : { degraded: [`history database unreachable: ${history.error}`] }) } : {}),
      ...(conflicts.length ? { schedule_source_conflicts: conflicts.map((c) => ({ scheduler: c.scheduler, host: c.host, file: c.file, local_hash: c.local_hash, published_hash: c.published_hash, leader: c.leader, error: c.message })) } : {}),
    });
  });

  app.use('/assets', express.static(PUBLIC_DIR, { maxAge: '1h' }));
  mountVendorAssets(app);

  // Login: the form posts a token; the cookie holds a random session id kept in Redis (HttpOnly,
  // SameSite=Strict, Secure whenever the browser reached us over TLS), revoked by logout.
  const cookiePath = base || '/';
  app.get('/login', (req, res) => {
    res.type('html').send(page(loginPage(safeNext(req.query.next, base), req.query.error === '1')));
  });
  app.post('/login', express.urlencoded({ extended: false, limit: '4kb' }), async (req, res, next) => {
    try {
      const target = safeNext(req.body?.next, base);
      if (!config.DASHBOARD_TOKEN) return res.redirect(303, target);
      await limits.checkAuth(req.ip ?? '');
      const role = roleForToken({ token: config.DASHBOARD_TOKEN, readToken: config.DASHBOARD_READ_TOKEN }, String(req.body?.token ?? ''));
      if (!role) {
        await limits.recordAuthFailure(req.ip ?? '');
        return res.redirect(303, `${base}/login?error=1&next=${encodeURIComponent(target)}`);
      }
      if (!isRedisReady(ctx.redis)) throw new RedisUnavailableError();
      const id = await sessions.create(role);
      const secure = req.secure ? '; Secure' : '';
      res.setHeader('Set-Cookie', `${SESSION_COOKIE}=${id}; HttpOnly; SameSite=Strict; Path=${cookiePath}; Max-Age=${config.SESSION_TTL_HOURS * 3600}${secure}`);
      res.redirect(303, target);
    } catch (err) {
      next(err);
    }
  });
  app.post('/logout', async (req, res, next) => {
    try {
      let id: string | null = null;
      try {
        id = readSessionCookie(req);
      } catch {
        // a malformed cookie is simply cleared
      }
      if (id) await sessions.revoke(id);
      res.setHeader('Set-Cookie', `${SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=${cookiePath}; Max-Age=0${req.secure ? '; Secure' : ''}`);
      res.redirect(303, `${base}/login`);
    } catch (err) {
      next(err);
    }
  });

  const metrics = createMetrics(ctx);
  const serveMetrics: express.RequestHandler = async (_req, res, next) => {
    if (!isRedisReady(ctx.redis)) return next(new RedisUnavailableError());
    try {
      res.type(metrics.contentType).send(await metrics.metrics());
    } catch (err) {
      next(err);
    }
  };
  // With a token set, /metrics needs it (the read token is enough) unless METRICS_PUBLIC=1 says otherwise.
  if (config.METRICS_PUBLIC) app.get('/metrics', serveMetrics);

  app.use(requireAuth({ token: config.DASHBOARD_TOKEN, readToken: config.DASHBOARD_READ_TOKEN, sessions, limits, basePath: base }));
  if (!config.METRICS_PUBLIC) app.get('/metrics', serveMetrics);
  app.use(readOnlyGuard(config.DASHBOARD_READONLY));

  const shell = (view: PageView): express.RequestHandler => (_req, res) => {
    res.type('html').send(page(shellPage(view, { readOnly: config.DASHBOARD_READONLY || roleOf(res) === 'read', auth: Boolean(config.DASHBOARD_TOKEN) })));
  };
  app.get('/', shell('overview'));
  app.get('/jobs', shell('jobs'));
  app.get('/jobs/:id', shell('job'));
  app.get(['/replays', '/replays/:id'], shell('replays'));
  app.get('/compare', shell('compare'));

  const api = express.Router();
  api.get('/openapi.json', (req, res) => {
    rejectUnknownQuery(req.query, []);
    res.json(openApiDocument());
  });
  const events: express.RequestHandler = extras.live ? eventStream(extras.live, { maxClients: config.SSE_MAX_CLIENTS, maxBufferBytes: config.SSE_MAX_BUFFER_BYTES, logger: ctx.logger }) : () => {
    throw new HttpError(404, 'live events not enabled');
  };
  api.get('/events', (req, res, next) => {
    rejectUnknownQuery(req.query, []);
    return events(req, res, next);
  });
  // Before the body is parsed or Redis asked: a method the path does not take is 405 whatever else is wrong.
  api.use(methodNotAllowed(api));
  api.use(express.json({ limit: '100kb', strict: true }));
  // A quick 503 while Redis is down, rather than waiting on a connection that is not there.
  api.use((_req, _res, next) => next(isRedisReady(ctx.redis) ? undefined : new RedisUnavailableError()));
  for (const routes of API_ROUTERS) api.use(routes(routeCtx));
  app.use('/api', api);
  extras.mount?.(app);
  app.use(notFoundHandler);
  app.use(errorHandler(ctx.logger));
  return root;
}

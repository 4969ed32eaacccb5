import { timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import { HttpError } from './http-errors.ts';
import { isSafeMethod } from './request-guard.ts';
import type { RequestLimits } from './request-limits.ts';
import { SESSION_ID_PATTERN, type Role, type SessionStore } from './session-store.ts';

export const SESSION_COOKIE = 'tl_session';
/** Browsers send this header only from our own scripts (cross-site forms cannot): the CSRF guard for cookie writes. */
export const CSRF_HEADER = 'x-tradeloop-request';

export interface AuthSettings {
  /** DASHBOARD_TOKEN: full access. Unset: loopback only, everything open. */
  token: string | undefined;
  /** DASHBOARD_READ_TOKEN: reads everything, changes nothing. */
  readToken: string | undefined;
  sessions: SessionStore;
  limits: RequestLimits;
  /** BASE_PATH, for the login redirect. */
  basePath: string;
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The role a presented token grants, or null. Both comparisons always run (no early exit to time). */
export function roleForToken(settings: Pick<AuthSettings, 'token' | 'readToken'>, given: string): Role | null {
  const admin = settings.token ? safeEqual(given, settings.token) : false;
  const read = settings.readToken ? safeEqual(given, settings.readToken) : false;
  return admin ? 'admin' : read ? 'read' : null;
}

/** The session id from the cookie; a cookie that is present but not one we could have issued is a 400. */
export function readSessionCookie(req: Request): string | null {
  const values: string[] = [];
  for (const part of (req.get('cookie') ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== SESSION_COOKIE) continue;
    values.push(part.slice(eq + 1).trim());
  }
  if (values.length === 0) return null;
  const value = values[0]!;
  if (!SESSION_ID_PATTERN.test(value)) {
    throw new HttpError(400, 'malformed session cookie', [{ field: `cookie.${SESSION_COOKIE}`, message: 'not a session id issued by this dashboard: log in again' }]);
  }
  return value;
}

/** A browser write from one of our own pages (Bull Board's included) names our host as its Origin. */
function sameOrigin(req: Request): boolean {
  const origin = req.get('origin') ?? req.get('referer');
  if (!origin) return false;
  try {
    return new URL(origin).host === req.host;
  } catch {
    return false;
  }
}

/** The role of this request, set by requireAuth ('admin' when no token is configured). */
export function roleOf(res: Response): Role {
  return (res.locals.role as Role | undefined) ?? 'admin';
}

/**
 * With DASHBOARD_TOKEN set: the API takes `Authorization: Bearer <token>` or the login cookie; pages
 * take the cookie (else go to the login page). A write sent with the cookie must also carry our CSRF
 * header or come from our origin. Clients that keep failing are refused for a while (429).
 * The read token (bearer or its session) may only read.
 * Without a token (loopback only) everything is open.
 */
export function requireAuth(settings: AuthSettings): RequestHandler {
  if (!settings.token) {
    return (_req, res, next) => {
      res.locals.role = 'admin';
      next();
    };
  }
  return async (req, res, next) => {
    try {
      const role = await authenticate(settings, req);
      if (role) {
        if (role === 'read' && !isSafeMethod(req.method)) {
          throw new HttpError(403, 'read-only credentials', [{ field: 'authorization', message: 'DASHBOARD_READ_TOKEN can read but not change anything' }]);
        }
        res.locals.role = role;
        return next();
      }
      const wantsPage = req.method === 'GET' && !req.path.startsWith('/api/') && (req.get('accept') ?? '').includes('text/html');
      if (wantsPage) return res.redirect(303, `${settings.basePath}/login?next=${encodeURIComponent(req.originalUrl)}`);
      throw new HttpError(401, 'authentication required', [{ field: 'authorization', message: 'send Authorization: Bearer <DASHBOARD_TOKEN>, or log in at /login' }]);
    } catch (err) {
      next(err);
    }
  };
}

async function authenticate(settings: AuthSettings, req: Request): Promise<Role | null> {
  const header = req.get('authorization');
  if (header !== undefined) {
    await settings.limits.checkAuth(req.ip ?? '');
    const role = header.startsWith('Bearer ') ? roleForToken(settings, header.slice(7)) : null;
    if (!role) await settings.limits.recordAuthFailure(req.ip ?? '');
    return role;
  }
  const id = readSessionCookie(req);
  if (!id) return null;
  const session = await settings.sessions.find(id);
  if (!session) return null;
  if (!isSafeMethod(req.method) && req.get(CSRF_HEADER) !== '1' && !sameOrigin(req)) {
    throw new HttpError(403, 'cross-site request refused', [{ field: CSRF_HEADER, message: 'writes with the session cookie need this header' }]);
  }
  return session.role;
}

/**
 * Where to go after logging in: a path on this site only. Anything a browser could read as another
 * host (`//evil`, `/\evil`, a scheme, control characters) becomes the overview.
 */
export function safeNext(next: unknown, basePath: string): string {
  const home = `${basePath}/`;
  if (typeof next !== 'string' || !next.startsWith('/') || /[\\\u0000-\u001f\u007f]/.test(next) || next.startsWith('//')) return home;
  try {
    const u = new URL(next, 'http://tradeloop.invalid');
    if (u.origin !== 'http://tradeloop.invalid') return home;
    return `${u.pathname}${u.search}${u.hash}`;
  } catch {
    return home;
  }
}

/** DASHBOARD_READONLY: every write is refused, whoever asks. */
export function readOnlyGuard(readOnly: boolean): RequestHandler {
  return (req, _res, next) => {
    if (readOnly && !isSafeMethod(req.method)) {
      return next(new HttpError(403, 'dashboard is read-only', [{ field: '(method)', message: 'DASHBOARD_READONLY=1 disables writes' }]));
    }
    next();
  };
}

import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import { HttpError } from './http-errors.ts';

export const SESSION_COOKIE = 'tl_session';
/** Browsers send this header only from our own scripts (cross-site forms cannot): the CSRF guard for cookie writes. */
export const CSRF_HEADER = 'x-tradeloop-request';

/** The cookie value: an HMAC of the token, so the token itself never sits in a cookie. */
export function sessionValue(token: string): string {
  return createHmac('sha256', token).update('tradeloop-session-v1').digest('base64url');
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function readCookie(req: Request, name: string): string | null {
  for (const part of (req.get('cookie') ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return decodeURIComponent(v.join('='));
  }
  return null;
}

/** A browser write from one of our own pages (Bull Board's included) names our host as its Origin. */
function sameOrigin(req: Request): boolean {
  const origin = req.get('origin') ?? req.get('referer');
  if (!origin) return false;
  try {
    return new URL(origin).host === req.get('host');
  } catch {
    return false;
  }
}

export function tokenMatches(token: string, given: string): boolean {
  return safeEqual(given, token);
}

/**
 * With DASHBOARD_TOKEN set: the API takes `Authorization: Bearer <token>` or the login cookie; pages
 * take the cookie (else go to /login). A write sent with the cookie must also carry our CSRF header.
 * Without a token (loopback only) everything is open.
 */
export function requireAuth(token: string | undefined): RequestHandler {
  if (!token) return (_req, _res, next) => next();
  const session = sessionValue(token);
  return (req, res, next) => {
    const header = req.get('authorization') ?? '';
    if (header.startsWith('Bearer ') && safeEqual(header.slice(7), token)) return next();
    const cookie = readCookie(req, SESSION_COOKIE);
    if (cookie && safeEqual(cookie, session)) {
      if (req.method !== 'GET' && req.method !== 'HEAD' && req.get(CSRF_HEADER) !== '1' && !sameOrigin(req)) {
        return next(new HttpError(403, 'cross-site request refused', [{ field: CSRF_HEADER, message: 'writes with the session cookie need this header' }]));
      }
      return next();
    }
    const wantsPage = req.method === 'GET' && !req.path.startsWith('/api/') && (req.get('accept') ?? '').includes('text/html');
    if (wantsPage) return res.redirect(303, `/login?next=${encodeURIComponent(req.originalUrl)}`);
    next(new HttpError(401, 'authentication required', [{ field: 'authorization', message: 'send Authorization: Bearer <DASHBOARD_TOKEN>, or log in at /login' }]));
  };
}

/** DASHBOARD_READONLY: every write is refused, whoever asks. */
export function readOnlyGuard(readOnly: boolean): RequestHandler {
  return (req, _res, next) => {
    if (readOnly && req.method !== 'GET' && req.method !== 'HEAD') {
      return next(new HttpError(403, 'dashboard is read-only', [{ field: '(method)', message: 'DASHBOARD_READONLY=1 disables writes' }]));
    }
    next();
  };
}

import { isIP } from 'node:net';
import type { Request, RequestHandler } from 'express';
import { HttpError } from './http-errors.ts';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function isSafeMethod(method: string): boolean {
  return SAFE_METHODS.has(method);
}

/** The host name a request names (X-Forwarded-Host only when TRUST_PROXY says so), lowercased, without port or brackets. */
function requestHostname(req: Request): string | null {
  const name = req.hostname;
  if (!name) return null;
  return name.toLowerCase().replace(/^\[|\]$/g, '');
}

export function hostAllowed(hostname: string, allowed: readonly string[]): boolean {
  // IP literals cannot be re-pointed by DNS; loopback names resolve to this machine alone.
  if (isIP(hostname)) return true;
  if (hostname === 'localhost' || hostname.endsWith('.localhost')) return true;
  return allowed.some((a) => (a.startsWith('*.') ? hostname.endsWith(a.slice(1)) : hostname === a));
}

/**
 * DNS rebinding defence: a hostile name re-pointed at 127.0.0.1 reaches us with its own name in Host.
 * Only loopback names, IP addresses and ALLOWED_HOSTS are served; anything else is 421 Misdirected Request.
 */
export function hostGuard(allowed: readonly string[]): RequestHandler {
  return (req, _res, next) => {
    const hostname = requestHostname(req);
    if (hostname && hostAllowed(hostname, allowed)) return next();
    next(
      new HttpError(421, 'host not served here', [
        { field: 'host', message: `${hostname ?? '(none)'} is not a loopback name, an IP address or in ALLOWED_HOSTS` },
      ]),
    );
  };
}

/** The host (with port) the browser addressed: X-Forwarded-Host behind a trusted proxy, else Host. */
function addressedHost(req: Request): string {
  return (req.host ?? '').toLowerCase();
}

/**
 * Cross-site request refusal for every state-changing method, whatever it targets (Bull Board included).
 * Browsers say where a request comes from: `Sec-Fetch-Site` (modern) or `Origin`. `same-site` is refused
 * too: another app on localhost:8080 is "same site" as us. A request with neither header is not a
 * browser's cross-site request (curl, scripts, the CLI never pass through here) and is let through.
 */
export const crossSiteGuard: RequestHandler = (req, _res, next) => {
  if (isSafeMethod(req.method)) return next();
  const site = req.get('sec-fetch-site');
  if (site !== undefined) {
    if (site === 'same-origin' || site === 'none') return next();
    return next(refused(`Sec-Fetch-Site is ${site}`));
  }
  const origin = req.get('origin');
  if (origin === undefined) return next();
  let host: string;
  try {
    host = new URL(origin).host.toLowerCase();
  } catch {
    return next(refused(`Origin ${origin} is not ours`));
  }
  if (host && host === addressedHost(req)) return next();
  next(refused(`Origin ${origin} is not ours`));
};

function refused(why: string): HttpError {
  return new HttpError(403, 'cross-site request refused', [{ field: 'origin', message: `${why}: state-changing requests must come from this dashboard's own pages` }]);
}

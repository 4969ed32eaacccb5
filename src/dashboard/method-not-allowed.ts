import type { RequestHandler, Router } from 'express';
import { HttpError } from './http-errors.ts';

/** A layer of an Express router, as far as this module reads it: a route, or a router mounted with use(). */
interface RouterLayer {
  route?: { path: unknown; methods: Record<string, boolean> };
  handle?: { stack?: RouterLayer[] };
}

interface KnownPath {
  pattern: RegExp;
  methods: Set<string>;
}

const ORDER = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'];

/** `/jobs/:id/result` → a pattern matching the paths Express routes there (case-insensitive, an optional trailing slash). */
function pathPattern(path: string): RegExp {
  const source = path
    .split('/')
    .map((segment) => (segment.startsWith(':') ? '[^/]+' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
  return new RegExp(`^${source}/?$`, 'i');
}

function collect(stack: RouterLayer[], into: Map<string, Set<string>>): void {
  for (const layer of stack) {
    if (layer.route && typeof layer.route.path === 'string') {
      const methods = into.get(layer.route.path) ?? new Set<string>();
      for (const m of Object.keys(layer.route.methods)) methods.add(m.toUpperCase());
      // Express answers HEAD with the GET route.
      if (methods.has('GET')) methods.add('HEAD');
      into.set(layer.route.path, methods);
    } else if (layer.handle?.stack) {
      collect(layer.handle.stack, into);
    }
  }
}

/**
 * A known path asked with a method it does not take is 405 with `Allow` (the methods it does take), not
 * the 404 of a path that does not exist. The routes are read from the router itself on the first request,
 * once every route is registered, so the answer cannot drift from what is served. OPTIONS is left to Express.
 */
export function methodNotAllowed(router: Router): RequestHandler {
  let known: KnownPath[] | null = null;
  return (req, res, next) => {
    if (req.method === 'OPTIONS') return next();
    if (!known) {
      const paths = new Map<string, Set<string>>();
      collect(router.stack as unknown as RouterLayer[], paths);
      known = [...paths].map(([path, methods]) => ({ pattern: pathPattern(path), methods }));
    }
    const allowed = new Set<string>();
    for (const k of known) if (k.pattern.test(req.path)) for (const m of k.methods) allowed.add(m);
    if (allowed.size === 0 || allowed.has(req.method)) return next();
    const allow = [...allowed].sort((a, b) => ORDER.indexOf(a) - ORDER.indexOf(b)).join(', ');
    res.setHeader('Allow', allow);
    next(new HttpError(405, 'method not allowed', [{ field: '(method)', message: `${req.method} is not accepted on ${req.baseUrl}${req.path}; it takes ${allow}` }]));
  };
}

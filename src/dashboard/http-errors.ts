import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { ZodError } from 'zod';
import type { Logger } from '../core/index.ts';

export interface ErrorDetail {
  field: string;
  message: string;
}

/** An error with an HTTP status; every 4xx/5xx body is `{error, details:[{field, message}]}`. */
export class HttpError extends Error {
  constructor(
    public readonly status: number,
    message: string,
    public readonly details: ErrorDetail[] = [],
  ) {
    super(message);
  }
}

export function validationError(err: ZodError, where = 'body'): HttpError {
  const details = err.issues.flatMap((issue): ErrorDetail[] => {
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((k) => ({ field: [...issue.path, k].join('.'), message: 'unknown field' }));
    }
    return [{ field: issue.path.length ? issue.path.join('.') : `(${where})`, message: issue.message }];
  });
  return new HttpError(400, `invalid request ${where}`, details);
}

/** A query field the route does not take is a 400 naming it: a mistyped filter must not silently list everything. */
export function rejectUnknownQuery(query: Record<string, unknown>, allowed: readonly string[]): void {
  const unknown = Object.keys(query).filter((k) => !allowed.includes(k));
  if (unknown.length) throw new HttpError(400, 'invalid request query', unknown.map((field) => ({ field, message: 'unknown field' })));
}

export class RedisUnavailableError extends HttpError {
  constructor(reason = 'Redis is unreachable; retry shortly') {
    super(503, 'service unavailable', [{ field: 'redis', message: reason }]);
  }
}

const REDIS_DOWN = /ECONNREFUSED|ENOTFOUND|ETIMEDOUT|Connection is closed|Stream isn't writeable|enableOfflineQueue|MaxRetriesPerRequest|connect ETIMEDOUT|Reached the max retries/i;

export function isRedisOutage(err: unknown): boolean {
  return err instanceof Error && REDIS_DOWN.test(err.message);
}

/** Rejects after `ms` so a Redis call can never hang a request. */
export function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new RedisUnavailableError('Redis did not answer in time')), ms);
    }),
  ]);
}

export const notFoundHandler: RequestHandler = (req, _res, next) => {
  next(new HttpError(404, `no route ${req.method} ${req.path}`));
};

export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, _req, res, _next) => {
    let http: HttpError;
    if (err instanceof HttpError) http = err;
    else if (err instanceof URIError) http = new HttpError(400, 'malformed request', [{ field: '(url)', message: 'bad percent-encoding' }]);
    else if (isRedisOutage(err)) http = new RedisUnavailableError();
    else if (isBodyParserError(err)) {
      http =
        err.type === 'entity.too.large'
          ? new HttpError(413, 'request body too large', [{ field: '(body)', message: `limit is ${err.limit} bytes` }])
          : new HttpError(400, 'invalid request body', [{ field: '(body)', message: err.type === 'entity.parse.failed' ? 'malformed JSON' : err.message }]);
    } else {
      logger.error({ err }, 'unhandled API error');
      http = new HttpError(500, 'internal error');
    }
    const retryAfter = (http as HttpError & { retryAfterSeconds?: number }).retryAfterSeconds;
    if (retryAfter !== undefined && !res.headersSent) res.setHeader('Retry-After', String(retryAfter));
    if (!res.headersSent) res.status(http.status).json({ error: http.message, details: http.details });
  };
}

function isBodyParserError(err: unknown): err is { type: string; limit?: number; message: string; status: number } {
  return typeof err === 'object' && err !== null && 'type' in err && 'status' in err && typeof (err as { status: unknown }).status === 'number';
}

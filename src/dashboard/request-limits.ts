import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { Config, ProductKeys } from '../core/index.ts';
import { HttpError } from './http-errors.ts';

/** An HTTP 429 carrying the seconds to wait, sent as Retry-After by the error handler. */
export class TooManyRequestsError extends HttpError {
  constructor(
    message: string,
    field: string,
    detail: string,
    public readonly retryAfterSeconds: number,
  ) {
    super(429, message, [{ field, message: detail }]);
  }
}

/**
 * Per-client limits shared by every dashboard process through Redis (an in-memory limiter stands in
 * while Redis is down, so an outage never lifts them): failed logins and bad tokens, and cycles created
 * through the API. Keys are the client address (`req.ip`, which honours TRUST_PROXY).
 */
export class RequestLimits {
  private readonly authFailures: RateLimiterRedis;
  private readonly jobs: RateLimiterRedis;

  constructor(redis: Redis, keys: ProductKeys, config: Pick<Config, 'AUTH_MAX_FAILURES' | 'JOBS_PER_MINUTE'>) {
    const make = (name: string, points: number, duration: number) =>
      new RateLimiterRedis({
        storeClient: redis,
        keyPrefix: keys.custom('limit', name),
        points,
        duration,
        rejectIfRedisNotReady: true,
        insuranceLimiter: new RateLimiterMemory({ points, duration }),
      });
    this.authFailures = make('auth', config.AUTH_MAX_FAILURES, 15 * 60);
    this.jobs = make('jobs', config.JOBS_PER_MINUTE, 60);
  }

  /** Refuses a client that has used up its failed attempts, before its credentials are even looked at. */
  async checkAuth(client: string): Promise<void> {
    const res = await this.authFailures.get(client).catch(() => null);
    if (res && res.consumedPoints >= this.authFailures.points) throw authLimited(res.msBeforeNext);
  }

  async recordAuthFailure(client: string): Promise<void> {
    await this.authFailures.consume(client).catch(() => undefined);
  }

  /** Gives back cycles taken for a request that was then refused for another reason. */
  async returnJobs(client: string, count: number): Promise<void> {
    await this.jobs.reward(client, count).catch(() => undefined);
  }

  /** Takes `count` cycles from the client's per-minute allowance, or refuses them all. */
  async takeJobs(client: string, count: number): Promise<void> {
    try {
      await this.jobs.consume(client, count);
    } catch (err) {
      if (!(err instanceof RateLimiterRes)) throw err;
      // A refused request does not eat the allowance it was refused for.
      await this.jobs.reward(client, count).catch(() => undefined);
      throw new TooManyRequestsError('too many cycles requested', '(rate)', `at most ${this.jobs.points} cycles per minute per client (JOBS_PER_MINUTE)`, Math.ceil(err.msBeforeNext / 1000));
    }
  }
}

function authLimited(ms: number): TooManyRequestsError {
  return new TooManyRequestsError('too many failed authentication attempts', 'authorization', 'wait before trying again (AUTH_MAX_FAILURES per 15 minutes)', Math.max(1, Math.ceil(ms / 1000)));
}

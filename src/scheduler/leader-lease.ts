import type { Redis } from 'ioredis';

// Taking a free lease also draws a fencing number, atomically: a later holder always has a larger one.
const ACQUIRE = `if redis.call('exists', KEYS[1]) == 1 then return 0 end
local fence = redis.call('incr', KEYS[2])
redis.call('set', KEYS[1], ARGV[1] .. '#' .. fence, 'PX', ARGV[2])
return fence`;
const RENEW = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

export class LeaseLostError extends Error {
  override name = 'LeaseLostError';
}

/**
 * A Redis lease that lets exactly one scheduler process reconcile and re-arm at a time (PM2 restart
 * overlap, a second machine): SET NX PX, renewed by compare-and-expire. `guard()` is the fencing
 * check: before each write it renews the lease under our own token (holder + fencing number) and
 * throws when the token is gone, so a process that lost the lease (paused by GC, cut off from Redis
 * past the TTL) stops mid-round instead of writing over the new leader.
 */
export class LeaderLease {
  private token: string | null = null;
  private fenceNumber = 0;

  constructor(
    private readonly redis: Redis,
    private readonly key: string,
    private readonly holder: string,
    private readonly ttlMs: number,
  ) {}

  /** Takes the lease when free, or renews it when we hold it. Returns whether we hold it now. */
  async acquireOrRenew(): Promise<boolean> {
    if (this.token) {
      if ((await this.redis.eval(RENEW, 1, this.key, this.token, this.ttlMs)) === 1) return true;
      this.token = null;
    }
    const fence = Number(await this.redis.eval(ACQUIRE, 2, this.key, `${this.key}:fence`, this.holder, this.ttlMs));
    if (fence > 0) {
      this.token = `${this.holder}#${fence}`;
      this.fenceNumber = fence;
    }
    return this.token !== null;
  }

  /** The fencing check before a write: throws LeaseLostError unless we still hold the lease. */
  async guard(): Promise<void> {
    if (!this.token || (await this.redis.eval(RENEW, 1, this.key, this.token, this.ttlMs)) !== 1) {
      this.token = null;
      throw new LeaseLostError(`scheduler lease ${this.key} is no longer ours`);
    }
  }

  isHeld(): boolean {
    return this.token !== null;
  }

  /** The fencing number of our current (or last) tenure; 0 when we never led. */
  fence(): number {
    return this.fenceNumber;
  }

  async currentHolder(): Promise<string | null> {
    return this.redis.get(this.key);
  }

  async release(): Promise<void> {
    if (this.token) await this.redis.eval(RELEASE, 1, this.key, this.token);
    this.token = null;
  }
}

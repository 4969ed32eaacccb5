import type { Redis } from 'ioredis';

const RENEW = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

/**
 * One coordinator per replay, whichever processes host coordinators: SET NX PX, renewed by
 * compare-and-expire before every write round. A holder that stops renewing (killed, cut off)
 * loses the replay to the next host after the TTL, which resumes it from Redis.
 */
export class ReplayLease {
  private held = false;

  constructor(
    private readonly redis: Redis,
    private readonly key: string,
    private readonly holder: string,
    private readonly ttlMs: number,
  ) {}

  async acquire(): Promise<boolean> {
    this.held = (await this.redis.set(this.key, this.holder, 'PX', this.ttlMs, 'NX')) === 'OK';
    return this.held;
  }

  /** Renews the lease; false (and no longer held) when another holder has it. */
  async renew(): Promise<boolean> {
    if (!this.held) return false;
    this.held = Number(await this.redis.eval(RENEW, 1, this.key, this.holder, this.ttlMs)) === 1;
    return this.held;
  }

  async release(): Promise<void> {
    if (this.held) await this.redis.eval(RELEASE, 1, this.key, this.holder);
    this.held = false;
  }
}

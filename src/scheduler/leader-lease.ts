import type { Redis } from 'ioredis';

const RENEW = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

/**
 * A Redis lease that lets exactly one scheduler process reconcile and re-arm at a time (PM2 restart
 * overlap, a second machine). Holding it is re-checked before each round of writes, so a process that
 * lost it (paused by GC, cut off from Redis) stops writing.
 */
export class LeaderLease {
  private held = false;

  constructor(
    private readonly redis: Redis,
    private readonly key: string,
    private readonly holder: string,
    private readonly ttlMs: number,
  ) {}

  /** Takes the lease when free, or renews it when we hold it. Returns whether we hold it now. */
  async acquireOrRenew(): Promise<boolean> {
    if (this.held) {
      this.held = (await this.redis.eval(RENEW, 1, this.key, this.holder, this.ttlMs)) === 1;
      if (this.held) return true;
    }
    this.held = (await this.redis.set(this.key, this.holder, 'PX', this.ttlMs, 'NX')) === 'OK';
    return this.held;
  }

  isHeld(): boolean {
    return this.held;
  }

  async currentHolder(): Promise<string | null> {
    return this.redis.get(this.key);
  }

  async release(): Promise<void> {
    if (this.held) await this.redis.eval(RELEASE, 1, this.key, this.holder);
    this.held = false;
  }
}

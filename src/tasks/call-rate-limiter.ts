import type { Redis } from 'ioredis';
import { CycleAbortedError, type ProductKeys } from '../core/index.ts';

const TAKE = `
local n = redis.call('incr', KEYS[1])
if n == 1 then redis.call('pexpire', KEYS[1], ARGV[2]) end
if n <= tonumber(ARGV[1]) then return 0 end
return redis.call('pttl', KEYS[1])
`;

/**
 * Outbound LLM/data calls per queue and window, shared by every worker through Redis (fixed window).
 * A caller over the limit waits for the next window rather than failing: providers' 429s cost more.
 */
export function createCallRateLimiter(redis: Redis, keys: ProductKeys, queue: string, limit: { max: number; durationMs: number }) {
  return async (kind: 'llm' | 'data', signal?: AbortSignal): Promise<void> => {
    for (;;) {
      if (signal?.aborted) throw new CycleAbortedError(String(signal.reason ?? 'aborted'));
      const window = Math.floor(Date.now() / limit.durationMs);
      // Redis refusing writes for a moment (OOM, failover) makes the call wait, not the cycle fail.
      const wait = Number(await redis.eval(TAKE, 1, keys.custom('rate', queue, kind, String(window)), limit.max, limit.durationMs).catch(() => 250));
      if (wait === 0) return;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(10, wait));
        signal?.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
      });
    }
  };
}

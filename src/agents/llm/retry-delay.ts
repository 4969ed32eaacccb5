/** The longest a server may make a cycle wait between two tries: past it, the cycle's own limits decide. */
export const MAX_RETRY_WAIT_MS = 60_000;

/**
 * How long to wait before try `attempt + 1` after a transient failure: what the server asked for
 * (`retry-after-ms`, then `retry-after` in seconds or as an HTTP date), else capped exponential backoff
 * with jitter. A missing header is not "retry at once": hammering a server that said 429 only earns more.
 */
export function retryDelayMs(headers: { get(name: string): string | null } | undefined, attempt: number, now = Date.now(), random = Math.random): number {
  const backoff = Math.min(8_000, 500 * 2 ** attempt) * (0.5 + random() / 2);
  const asked = askedDelayMs(headers, now);
  return asked === null ? backoff : Math.min(MAX_RETRY_WAIT_MS, asked);
}

function askedDelayMs(headers: { get(name: string): string | null } | undefined, now: number): number | null {
  const ms = headers?.get('retry-after-ms')?.trim();
  if (ms && /^\d+(\.\d+)?$/.test(ms)) return Number(ms);
  const after = headers?.get('retry-after')?.trim();
  if (!after) return null;
  if (/^\d+(\.\d+)?$/.test(after)) return Number(after) * 1000;
  const at = Date.parse(after);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

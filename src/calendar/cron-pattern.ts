import { getNextMillis } from 'bullmq';

/**
 * Cron arithmetic through BullMQ's own `getNextMillis` (cron-parser underneath), so what we plan,
 * validate and display is exactly what BullMQ will fire — DST quirks included.
 */

/** How long a remembered next instant is reused: about one reconcile round. */
export const CRON_MEMO_MS = 60_000;

/** Answers of `cronNext` per (pattern, tz): [from, next), reused while `after` lies inside (see below). */
const nextMemo = new Map<string, { from: number; next: number; at: number }>();

/**
 * The first instant of `pattern` strictly after `after`, or null when there is none. Remembered for a
 * minute per (pattern, tz): windows, the file check and the watchdog ask the same question for
 * thousands of entries sharing a few patterns, and each parser call costs about half a millisecond.
 */
export function cronNext(pattern: string, tz: string, after: number): number | null {
  const key = `${pattern}\u0000${tz}`;
  const now = Date.now();
  const hit = nextMemo.get(key);
  if (hit && hit.from <= after && after < hit.next && now - hit.at < CRON_MEMO_MS) return hit.next;
  const next = getNextMillis(after, { pattern, tz });
  if (next === undefined || !Number.isFinite(next)) return null;
  if (nextMemo.size > 10_000) nextMemo.clear();
  nextMemo.set(key, { from: after, next, at: now });
  return next;
}

/** Why BullMQ cannot use this pattern in this time zone, or null when it can. */
export function cronError(pattern: string, tz: string): string | null {
  try {
    // cron-parser throws on a bad pattern; a time zone it cannot handle surfaces as an unhandled date.
    getNextMillis(Date.UTC(2026, 0, 1), { pattern, tz });
    return null;
  } catch (err) {
    return (err as Error).message.split('\n')[0] ?? 'not a valid cron expression';
  }
}

/**
 * The last instant of `pattern` in the open interval (from, until), or null. Binary search on
 * "next instant after t", so it costs ~40 parser calls whatever the pattern's frequency.
 */
export function cronLastBefore(pattern: string, tz: string, from: number, until: number): number | null {
  const first = cronNext(pattern, tz, from);
  if (first === null || first >= until) return null;
  // Invariant: next(lo) < until, next(hi) >= until (or none).
  let lo = from;
  let hi = until - 1;
  const nextHi = cronNext(pattern, tz, hi);
  if (nextHi !== null && nextHi < until) return nextHi;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    const n = cronNext(pattern, tz, mid);
    if (n !== null && n < until) lo = mid;
    else hi = mid;
  }
  return cronNext(pattern, tz, lo);
}

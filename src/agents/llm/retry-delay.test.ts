import { describe, expect, it } from 'vitest';
import { MAX_RETRY_WAIT_MS, retryDelayMs } from './retry-delay.ts';

const headers = (h: Record<string, string>) => new Headers(h);

describe('retry delay after a transient LLM error', () => {
  it('reads retry-after-ms, retry-after in seconds or as an HTTP date, and caps what a server asks', () => {
    const now = Date.parse('2026-12-03T12:00:00Z');
    expect(retryDelayMs(headers({ 'retry-after-ms': '250' }), 0, now)).toBe(250);
    expect(retryDelayMs(headers({ 'retry-after': '3' }), 0, now)).toBe(3000);
    expect(retryDelayMs(headers({ 'retry-after': '0' }), 0, now)).toBe(0);
    expect(retryDelayMs(headers({ 'retry-after': 'Thu, 03 Dec 2026 12:00:05 GMT' }), 0, now)).toBe(5000);
    expect(retryDelayMs(headers({ 'retry-after': '3600' }), 0, now)).toBe(MAX_RETRY_WAIT_MS);
  });

  it('backs off exponentially with jitter when the server names no delay (or an unreadable one)', () => {
    expect(retryDelayMs(headers({}), 0, 0, () => 0)).toBe(250);
    expect(retryDelayMs(headers({}), 0, 0, () => 1)).toBe(500);
    expect(retryDelayMs(headers({ 'retry-after': 'soon' }), 2, 0, () => 1)).toBe(2000);
    expect(retryDelayMs(undefined, 10, 0, () => 1)).toBe(8000);
  });
});

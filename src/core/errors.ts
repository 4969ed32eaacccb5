/**
 * An error that retrying cannot fix (invalid input, unknown ticker, unknown agent, live trading requested
 * without a broker). Workers fail such jobs at once, without spending the remaining attempts.
 */
export class PermanentCycleError extends Error {
  override name = 'PermanentCycleError';
}

/** The cycle was aborted by its AbortSignal (soft time limit, cancel, shutdown). */
export class CycleAbortedError extends Error {
  override name = 'CycleAbortedError';
  constructor(public readonly reason: string) {
    super(reason);
  }
}

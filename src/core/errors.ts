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

/**
 * The LLM server refused the request for a reason a retry cannot change (unsupported parameter, unknown
 * model, context too long): the job ends at once with the server's own message.
 */
export class LlmRequestRejectedError extends Error {
  override name = 'LlmRequestRejectedError';
  constructor(
    message: string,
    public readonly status: number,
  ) {
    super(message);
  }
}

/**
 * The model refused to answer (`message.refusal` set, no content): asking again would pay for the same
 * refusal, so the job ends at once with the model's own words.
 */
export class LlmRefusalError extends Error {
  override name = 'LlmRefusalError';
  constructor(
    public readonly role: string,
    public readonly model: string,
    public readonly refusal: string,
  ) {
    super(`the ${role} model "${model}" refused to answer: ${refusal}`);
  }
}

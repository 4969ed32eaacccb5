import type { HistoryStore } from '../history/index.ts';
import type { ApiContext } from './api-context.ts';
import { HttpError } from './http-errors.ts';

const HISTORY_DEADLINE_MS = 3_000;

export class HistoryUnavailableError extends HttpError {
  constructor(reason: string) {
    super(503, 'history database unavailable', [{ field: 'database', message: reason }]);
  }
}

/**
 * Asks the durable history (PostgreSQL), when one is configured: null without DATABASE_URL, a quick
 * 503 when the database does not answer in time (never a hang, never a crash).
 */
export async function fromHistory<T>(ctx: ApiContext, read: (history: HistoryStore) => Promise<T>): Promise<T | null> {
  if (!ctx.history) return null;
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      read(ctx.history),
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${HISTORY_DEADLINE_MS} ms`)), HISTORY_DEADLINE_MS))),
    ]);
  } catch (err) {
    if (err instanceof HttpError || (err instanceof Error && err.name === 'HistoryCursorError')) throw err;
    ctx.logger.warn({ err: (err as Error).message }, 'history database read failed');
    throw new HistoryUnavailableError((err as Error).message);
  } finally {
    clearTimeout(timer);
  }
}

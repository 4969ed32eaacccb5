import { getJobView, resultOf, findJob, type JobView } from '../tasks/index.ts';
import type { CliContext } from './cli-context.ts';

const FINAL = new Set(['completed', 'failed', 'cancelled', 'skipped']);

/** Polls a job until it ends or the timeout passes; returns its view and, when completed, its decision. */
export async function waitForJob(ctx: CliContext, id: string, timeoutMs: number): Promise<{ view: JobView | null; decision?: string; confidence?: number; timedOut: boolean }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const view = await getJobView(ctx, id);
    if (view && FINAL.has(view.status)) {
      const found = await findJob(ctx.queues, id);
      const result = found ? resultOf(found.job) : null;
      return { view, decision: result?.decision, confidence: result?.confidence, timedOut: false };
    }
    if (Date.now() > deadline) return { view, timedOut: true };
    await new Promise((r) => setTimeout(r, 250));
  }
}

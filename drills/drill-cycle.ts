import type { CycleContext } from '../src/agents/index.ts';
import { CycleAbortedError, type CycleJobData, type CycleResult } from '../src/core/index.ts';
import { runCycle as noop } from '../bench/noop-cycle.ts';

/** The drills' cycle: sleeps DRILL_CYCLE_MS (honouring the signal), counts its executions per job id, returns a result. */
export async function runCycle(job: CycleJobData, ctx: CycleContext): Promise<CycleResult> {
  await ctx.redis.hincrby(`${ctx.config.QUEUE_PREFIX}:drill:executions`, ctx.jobId, 1);
  const ms = Number(process.env.DRILL_CYCLE_MS ?? 100);
  await new Promise<void>((resolve, reject) => {
    if (ctx.signal.aborted) return reject(new CycleAbortedError(String(ctx.signal.reason)));
    const t = setTimeout(resolve, ms);
    ctx.signal.addEventListener('abort', () => (clearTimeout(t), reject(new CycleAbortedError(String(ctx.signal.reason)))), { once: true });
  });
  return noop(job);
}

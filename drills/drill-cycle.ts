import { appendFileSync } from 'node:fs';
import type { CycleContext } from '../src/agents/index.ts';
import { CycleAbortedError, type CycleJobData, type CycleResult } from '../src/core/index.ts';
import { runCycle as noop } from '../bench/noop-cycle.ts';

/**
 * The drills' cycle: sleeps DRILL_CYCLE_MS (honouring the signal), counts its executions per job id, returns a result.
 * With DRILL_EXECUTIONS_FILE it also appends the job id (with pid and time) there, a count no Redis failover can take back.
 */
export async function runCycle(job: CycleJobData, ctx: CycleContext): Promise<CycleResult> {
  if (process.env.DRILL_EXECUTIONS_FILE) appendFileSync(process.env.DRILL_EXECUTIONS_FILE, `${ctx.jobId} ${process.pid} ${Date.now()}\n`);
  await ctx.redis.hincrby(`${ctx.config.QUEUE_PREFIX}:drill:executions`, ctx.jobId, 1);
  const ms = Number(process.env.DRILL_CYCLE_MS ?? 100);
  await new Promise<void>((resolve, reject) => {
    if (ctx.signal.aborted) return reject(new CycleAbortedError(String(ctx.signal.reason)));
    const t = setTimeout(resolve, ms);
    ctx.signal.addEventListener('abort', () => (clearTimeout(t), reject(new CycleAbortedError(String(ctx.signal.reason)))), { once: true });
  });
  return noop(job, ctx);
}

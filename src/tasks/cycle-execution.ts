import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import type { Redis } from 'ioredis';
import type { CycleContext, CycleStage } from '../agents/index.ts';
import type { Config, CycleJobData, CycleResult, Logger } from '../core/index.ts';

export type CycleFunction = (job: CycleJobData, ctx: CycleContext) => Promise<CycleResult>;

/** The built-in trading cycle, or the module named by CYCLE_MODULE (benchmarks' no-op cycle, custom engines). */
export async function loadCycleFunction(config: Pick<Config, 'CYCLE_MODULE'>): Promise<CycleFunction> {
  // Loaded on demand: the agents' dependencies (LLM and data clients) are most of a sandbox child's start-up.
  if (!config.CYCLE_MODULE) return (await import('../agents/index.ts')).runTradingCycle;
  const mod = (await import(pathToFileURL(resolve(config.CYCLE_MODULE)).href)) as { runCycle?: CycleFunction };
  if (typeof mod.runCycle !== 'function') throw new Error(`CYCLE_MODULE ${config.CYCLE_MODULE} does not export runCycle(job, ctx)`);
  return mod.runCycle;
}

export interface CycleCall {
  data: CycleJobData;
  jobId: string;
  attempt: number;
  signal: AbortSignal;
  reportProgress(stage: CycleStage, percent: number): Promise<void>;
  acquireCallSlot(kind: 'llm' | 'data'): Promise<void>;
}

/** Runs one cycle with its context; the same in the worker process and in a sandbox child. */
export function executeCycle(fn: CycleFunction, call: CycleCall, env: { config: Config; redis: Redis; logger: Logger }): Promise<CycleResult> {
  return fn(call.data, {
    config: env.config,
    redis: env.redis,
    logger: env.logger,
    signal: call.signal,
    jobId: call.jobId,
    attempt: call.attempt,
    reportProgress: call.reportProgress,
    acquireCallSlot: call.acquireCallSlot,
  });
}

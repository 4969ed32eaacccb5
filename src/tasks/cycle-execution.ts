import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import type { Redis } from 'ioredis';
import type { CycleContext, CycleStage } from '../agents/index.ts';
import type { Config, CycleJobData, CycleResult, Logger } from '../core/index.ts';

/** The analysis half of a cycle: no side effects beyond caches and model calls. */
export type CycleFunction = (job: CycleJobData, ctx: CycleContext) => Promise<CycleResult>;

/** The settle half: a stored analysis's side effects (fill, scorecard), each once per job id. */
export type SettleFunction = (analysis: CycleResult, job: CycleJobData, ctx: { redis: Redis; config: Config; jobId: string }) => Promise<CycleResult>;

/** A custom cycle with no settle step of its own has no side effects to complete. */
const settleNothing: SettleFunction = async (analysis) => analysis;

interface CycleModule {
  runCycle?: CycleFunction;
  settleCycle?: SettleFunction;
}

async function loadCycleModule(path: string): Promise<CycleModule> {
  const mod = (await import(pathToFileURL(resolve(path)).href)) as CycleModule;
  if (typeof mod.runCycle !== 'function') throw new Error(`CYCLE_MODULE ${path} does not export runCycle(job, ctx)`);
  return mod;
}

/** The built-in trading cycle's analysis, or the module named by CYCLE_MODULE (benchmarks' no-op cycle, custom engines). */
export async function loadCycleFunction(config: Pick<Config, 'CYCLE_MODULE'>): Promise<CycleFunction> {
  // Loaded on demand: the agents' dependencies (LLM and data clients) are most of a sandbox child's start-up.
  if (!config.CYCLE_MODULE) return (await import('../agents/index.ts')).analyseTradingCycle;
  return (await loadCycleModule(config.CYCLE_MODULE)).runCycle!;
}

/** The settle step that goes with loadCycleFunction's analysis; it runs in the worker process. */
export async function loadSettleFunction(config: Pick<Config, 'CYCLE_MODULE'>): Promise<SettleFunction> {
  if (!config.CYCLE_MODULE) return (await import('../agents/index.ts')).settleTradingCycle;
  return (await loadCycleModule(config.CYCLE_MODULE)).settleCycle ?? settleNothing;
}

export { settleNothing };

// Settle steps known to do nothing for some jobs: their analysis and outcome are then stored together.
const idleFor = new WeakMap<SettleFunction, (job: CycleJobData) => boolean>([[settleNothing, () => true]]);

/** Declares when `fn` has no side effects (so nothing needs to happen between storing and recording). */
export function idleWhen(fn: SettleFunction, when: (job: CycleJobData) => boolean): SettleFunction {
  idleFor.set(fn, when);
  return fn;
}

/** True when the settle step is known to do nothing for this job; unknown steps are assumed to act. */
export function settlesNothing(fn: SettleFunction, job: CycleJobData): boolean {
  return idleFor.get(fn)?.(job) ?? false;
}

export interface CycleCall {
  data: CycleJobData;
  jobId: string;
  attempt: number;
  signal: AbortSignal;
  reportProgress(stage: CycleStage, percent: number): Promise<void>;
  acquireCallSlot(kind: 'llm' | 'data'): Promise<void>;
}

/** Runs one cycle's analysis with its context; the same in the worker process and in a sandbox child. */
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

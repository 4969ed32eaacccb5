import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import type { Redis } from 'ioredis';
import type { CycleContext, CycleStage } from '../agents/index.ts';
import {
  CycleAbortedError,
  cycleJobDataSchema,
  DEFAULT_QUEUE,
  effectiveQueue,
  isQueueName,
  jobLogger,
  productKeys,
  type Config,
  type CycleJobData,
  type CycleResult,
  type Logger,
} from '../core/index.ts';
import { createCallRateLimiter } from './call-rate-limiter.ts';
import { CycleRunError, SOFT_LIMIT } from './cycle-runner.ts';

export type CycleFunction = (job: CycleJobData, ctx: CycleContext) => Promise<CycleResult>;

/** The built-in trading cycle, or the module named by CYCLE_MODULE (benchmarks' no-op cycle, custom engines). */
export async function loadCycleFunction(config: Pick<Config, 'CYCLE_MODULE'>): Promise<CycleFunction> {
  // Loaded on demand: the agents' dependencies (LLM and data clients) are most of a sandbox child's start-up.
  if (!config.CYCLE_MODULE) return (await import('../agents/index.ts')).runTradingCycle;
  const mod = (await import(pathToFileURL(resolve(config.CYCLE_MODULE)).href)) as { runCycle?: CycleFunction };
  if (typeof mod.runCycle !== 'function') throw new Error(`CYCLE_MODULE ${config.CYCLE_MODULE} does not export runCycle(job, ctx)`);
  return mod.runCycle;
}

/**
 * The part of a BullMQ job a cycle needs. Both a real Job (in-process) and the job BullMQ hands a
 * sandboxed processor (a JSON copy whose updateProgress is relayed to the parent) fit.
 */
export interface CycleJobHandle {
  id?: string | null;
  data: unknown;
  attemptsMade: number;
  queueName: string;
  updateProgress(progress: { stage: CycleStage; percent: number }): Promise<unknown>;
}

export interface CycleEnv {
  config: Config;
  redis: Redis;
  logger: Logger;
}

/**
 * Runs one cycle for a job with its context (progress, shared call-rate limit, job logger), the same
 * in the worker process and in a sandbox child. An abort surfaces as a CycleRunError named after its
 * cause, so the worker can tell a soft time limit from a cancel across the process boundary.
 */
export async function runCycleJob(fn: CycleFunction, job: CycleJobHandle, signal: AbortSignal, env: CycleEnv): Promise<CycleResult> {
  const data = cycleJobDataSchema.parse(job.data);
  const queue = isQueueName(job.queueName) ? job.queueName : DEFAULT_QUEUE;
  const jobId = String(job.id);
  const attempt = job.attemptsMade + 1;
  const log = jobLogger(env.logger, { jobId, agent: data.agent, ticker: data.ticker, attempt, queue });
  const limiter = createCallRateLimiter(env.redis, productKeys(env.config.QUEUE_PREFIX), queue, effectiveQueue(queue, env.config).rateLimit);
  try {
    return await fn(data, {
      config: env.config,
      redis: env.redis,
      logger: log,
      signal,
      jobId,
      attempt,
      reportProgress: async (stage, percent) => {
        log.debug({ stage, percent }, 'progress');
        await job.updateProgress({ stage, percent });
      },
      acquireCallSlot: (kind) => limiter(kind, signal),
    });
  } catch (err) {
    if (signal.aborted && (err instanceof CycleAbortedError || (err as Error).name === 'AbortError' || (err as Error).name === 'CycleAbortedError')) {
      const reason = String(signal.reason ?? 'aborted');
      throw new CycleRunError(reason, reason === SOFT_LIMIT ? 'SoftTimeLimit' : 'CycleAbortedError');
    }
    throw err;
  }
}

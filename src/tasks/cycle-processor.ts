import { UnrecoverableError, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { runTradingCycle, type CycleStage } from '../agents/index.ts';
import {
  cycleJobDataSchema,
  jobLogger,
  PermanentCycleError,
  type Config,
  type JobOutcome,
  type Logger,
  type QueueName,
} from '../core/index.ts';
import { writeResultFile } from './result-files.ts';

export interface CycleProcessorDeps {
  config: Config;
  logger: Logger;
  redis: Redis;
  now?: () => Date;
}

/** Runs one trading-cycle job: validate, analyse, store. Returns the job's JSON outcome. */
export function createCycleProcessor(deps: CycleProcessorDeps, queue: QueueName) {
  return async (job: Job, _token?: string, signal?: AbortSignal): Promise<JobOutcome> => {
    const attempt = job.attemptsMade + 1;
    const raw = (job.data ?? {}) as Record<string, unknown>;
    const log = jobLogger(deps.logger, {
      jobId: String(job.id),
      agent: String(raw.agent ?? '?'),
      ticker: String(raw.ticker ?? '?'),
      attempt,
      queue,
    });
    const parsed = cycleJobDataSchema.safeParse(raw);
    if (!parsed.success) {
      const why = parsed.error.issues.map((i) => `${i.path.join('.') || '(data)'}: ${i.message}`).join('; ');
      log.error({ issues: parsed.error.issues }, 'invalid job data: not retried');
      throw new UnrecoverableError(`invalid job data: ${why}`);
    }
    const data = parsed.data;
    log.info({ trigger: data.trigger, scheduleId: data.schedule_id }, 'cycle started');
    const started = Date.now();
    try {
      const result = await runTradingCycle(data, {
        config: deps.config,
        redis: deps.redis,
        logger: log,
        signal: signal ?? new AbortController().signal,
        jobId: String(job.id),
        attempt,
        now: deps.now,
        reportProgress: async (stage: CycleStage, percent: number) => {
          log.debug({ stage, percent }, 'progress');
          await job.updateProgress({ stage, percent });
        },
      });
      const file = await writeResultFile(deps.config.RESULTS_DIR, String(job.id), result);
      log.info({ decision: result.decision, confidence: result.confidence, ms: Date.now() - started, file }, 'cycle completed');
      return { status: 'completed', result };
    } catch (err) {
      if (err instanceof PermanentCycleError) {
        log.error({ err: err.message }, 'cycle failed permanently: not retried');
        throw new UnrecoverableError(err.message);
      }
      log.warn({ err }, 'cycle failed');
      throw err;
    }
  };
}

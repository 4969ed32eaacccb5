import type { Queue } from 'bullmq';
import {
  closeQueues,
  createRedisConnection,
  describeRedisUrl,
  openQueues,
  productKeys,
  type Config,
  type Logger,
  type QueueName,
  type RunningService,
} from '../core/index.ts';
import { desiredSchedulers } from './desired-schedulers.ts';
import { reconcileSchedulers, type ReconcileReport } from './reconcile.ts';
import { loadScheduleFile, ScheduleFileError, type ScheduleSet } from './schedule-file.ts';
import { publishLoadFailure, publishScheduleSet, readPausedIds } from './schedule-registry.ts';

export interface SchedulerDeps {
  now?: () => Date;
}

export interface SchedulerService extends RunningService {
  /** Re-reads the schedule file and reconciles; an invalid file leaves the last good schedule running. */
  reload(): Promise<ReconcileReport | null>;
  readonly queues: Record<QueueName, Queue>;
  current(): ScheduleSet | null;
}

/** The product's "beat": turns schedules.yaml into BullMQ job schedulers and keeps them in sync. */
export async function startScheduler(config: Config, logger: Logger, deps: SchedulerDeps = {}): Promise<SchedulerService> {
  const now = deps.now ?? (() => new Date());
  const redis = createRedisConnection(config, 'worker');
  const keys = productKeys(config.QUEUE_PREFIX);
  const queues = openQueues(redis, config.QUEUE_PREFIX);
  let current: ScheduleSet | null = null;
  // Reloads are serialised: two overlapping reconciles could interleave upserts and removals.
  let chain: Promise<unknown> = Promise.resolve();

  const apply = async (): Promise<ReconcileReport | null> => {
    let set: ScheduleSet;
    try {
      set = await loadScheduleFile(config.SCHEDULES_FILE);
    } catch (err) {
      if (!(err instanceof ScheduleFileError)) throw err;
      logger.error({ file: config.SCHEDULES_FILE, issues: err.issues }, `schedule file rejected; the last good schedule keeps running:\n${err.message}`);
      await publishLoadFailure(redis, keys, config.SCHEDULES_FILE, err.message, now());
      return null;
    }
    const paused = await readPausedIds(redis, keys);
    const report = await reconcileSchedulers(queues, desiredSchedulers(set, paused));
    await publishScheduleSet(redis, keys, set, now());
    current = set;
    logger.info(
      { added: report.added, updated: report.updated, removed: report.removed, unchanged: report.unchanged },
      `schedules reconciled: ${set.schedules.length} schedule(s) from ${config.SCHEDULES_FILE}`,
    );
    return report;
  };
  const reload = () => {
    const next = chain.then(apply);
    chain = next.catch(() => undefined);
    return next;
  };

  logger.info({ redis: describeRedisUrl(config.REDIS_URL), prefix: config.QUEUE_PREFIX }, 'scheduler starting');
  await reload();

  return {
    queues,
    reload,
    current: () => current,
    async stop() {
      await chain.catch(() => undefined);
      await closeQueues(queues);
      redis.disconnect();
    },
  };
}

import { hostname } from 'node:os';
import { Worker } from 'bullmq';
import {
  createRedisConnection,
  describeRedisUrl,
  QUEUE_NAMES,
  type Config,
  type Logger,
  type QueueName,
  type RunningService,
} from '../core/index.ts';
import { createCycleProcessor } from './cycle-processor.ts';

export interface WorkerOptions {
  queues?: QueueName[];
  concurrency?: number;
  shutdownDeadlineMs?: number;
  now?: () => Date;
}

export interface WorkerService extends RunningService {
  readonly id: string;
  readonly workers: Worker[];
}

/** A worker process: one BullMQ Worker per queue it serves, each with `concurrency` slots. */
export async function startWorkers(config: Config, logger: Logger, opts: WorkerOptions = {}): Promise<WorkerService> {
  const queues = opts.queues ?? [...QUEUE_NAMES];
  const concurrency = opts.concurrency ?? config.WORKER_CONCURRENCY;
  const id = `${hostname()}:${process.pid}`;
  const redis = createRedisConnection(config, 'worker');
  const workers = queues.map((queue) => {
    const processor = createCycleProcessor({ config, logger, redis, now: opts.now }, queue);
    const worker = new Worker(queue, processor, {
      connection: createRedisConnection(config, 'worker'),
      prefix: config.QUEUE_PREFIX,
      concurrency,
      name: id,
    });
    worker.on('error', (err) => logger.error({ err, queue }, 'worker error'));
    worker.on('failed', (job, err) => {
      if (job) logger.warn({ jobId: job.id, queue, attempt: job.attemptsMade, err: err.message }, 'job attempt failed');
    });
    return worker;
  });
  logger.info({ id, queues, concurrency, redis: describeRedisUrl(config.REDIS_URL) }, 'worker started');

  return {
    id,
    workers,
    async stop() {
      // worker.close() waits for active jobs without a limit: enforce the deadline ourselves.
      const deadline = opts.shutdownDeadlineMs ?? 30_000;
      const graceful = Promise.all(workers.map((w) => w.close()));
      const timedOut = await Promise.race([
        graceful.then(() => false),
        new Promise<boolean>((r) => setTimeout(() => r(true), deadline).unref()),
      ]);
      if (timedOut) {
        logger.warn({ deadlineMs: deadline }, 'running jobs did not finish before the deadline; they will be recovered as stalled');
        await Promise.all(workers.map((w) => w.close(true)));
      }
      redis.disconnect();
    },
  };
}

import { Queue, type QueueOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { QUEUE_NAMES, type QueueName } from './queues.ts';

/** One BullMQ Queue per declared queue, sharing a connection, with keys under the product prefix. */
export function openQueues(
  connection: Redis,
  prefix: string,
  onError: (err: Error, queue: QueueName) => void = () => {},
  /** BullMQ's advanced repeat settings (the scheduler passes its cron strategy). */
  settings?: QueueOptions['settings'],
): Record<QueueName, Queue> {
  return Object.fromEntries(
    QUEUE_NAMES.map((name) => {
      const queue = new Queue(name, settings ? { connection, prefix, settings } : { connection, prefix });
      // Connection errors are reported by the connection's owner; an unhandled 'error' event would print a stack per retry.
      queue.on('error', (err) => onError(err, name));
      return [name, queue];
    }),
  ) as Record<QueueName, Queue>;
}

export async function closeQueues(queues: Record<QueueName, Queue>): Promise<void> {
  await Promise.allSettled(Object.values(queues).map((q) => q.close()));
}

import type { Redis } from 'ioredis';
import { publishEvent, type ProductKeys, type QueueName } from '../core/index.ts';
import type { QueueSet } from './job-store.ts';

/**
 * Pausing a queue (BullMQ's global pause): every worker stops taking its jobs, running ones finish,
 * producers can still add. Kept in Redis, so it holds across worker restarts until resumed.
 */
export async function setQueuePaused(queues: QueueSet, redis: Redis, keys: ProductKeys, name: QueueName, paused: boolean, by = 'unknown'): Promise<{ queue: QueueName; paused: boolean }> {
  if (paused) await queues[name].pause();
  else await queues[name].resume();
  await publishEvent(redis, keys, paused ? 'queue.paused' : 'queue.resumed', { queue: name, by }).catch(() => undefined);
  return { queue: name, paused: await queues[name].isPaused() };
}

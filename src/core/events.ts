import type { Redis } from 'ioredis';
import type { ProductKeys } from './keys.ts';
import type { RedisWrite } from './redis-write.ts';

/**
 * Product events that are not BullMQ job events (those come from QueueEvents): published on one Redis
 * channel by the process that knows, relayed to browsers by the dashboard's SSE stream.
 */
export const PRODUCT_EVENT_TYPES = [
  'schedule.changed',
  'schedule.rearmed',
  'worker.online',
  'worker.offline',
  'cycle.skipped',
  'queue.paused',
  'queue.resumed',
  'decision.pending',
  'decision.approved',
  'decision.rejected',
  'decision.expired',
] as const;
export type ProductEventType = (typeof PRODUCT_EVENT_TYPES)[number];

export interface ProductEvent {
  type: ProductEventType;
  at: string;
  [field: string]: unknown;
}

/** The PUBLISH of an event as a write, for a batch (the channel travels where a key would). */
export function eventWrite(keys: ProductKeys, type: ProductEventType, payload: Record<string, unknown> = {}): RedisWrite {
  const event: ProductEvent = { ...payload, type, at: new Date().toISOString() };
  return ['PUBLISH', keys.eventsChannel, JSON.stringify(event)];
}

export async function publishEvent(redis: Redis, keys: ProductKeys, type: ProductEventType, payload: Record<string, unknown> = {}): Promise<void> {
  const event: ProductEvent = { ...payload, type, at: new Date().toISOString() };
  await redis.publish(keys.eventsChannel, JSON.stringify(event));
}

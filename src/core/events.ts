import type { Redis } from 'ioredis';
import type { ProductKeys } from './keys.ts';

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

export async function publishEvent(redis: Redis, keys: ProductKeys, type: ProductEventType, payload: Record<string, unknown> = {}): Promise<void> {
  const event: ProductEvent = { ...payload, type, at: new Date().toISOString() };
  await redis.publish(keys.eventsChannel, JSON.stringify(event));
}

import type { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeQueues, openQueues, type QueueName } from '../core/index.ts';
import { deletePrefix, TEST_REDIS_URL, uniquePrefix, waitFor } from '../../test/support/redis-test-env.ts';
import { startDueWaker } from './due-waker.ts';

const prefix = uniquePrefix('due-waker');
let redis: Redis;
let queues: Record<QueueName, Queue>;

beforeAll(() => {
  redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  queues = openQueues(redis, prefix);
});
afterAll(async () => {
  await closeQueues(queues);
  redis.disconnect();
  await deletePrefix(prefix);
});

/** Whether the "job ready" marker (member "0", score 0) that wakes a blocked worker is set. */
const woken = async (q: Queue) => (await redis.zscore(q.keys.marker!, '0')) === '0';

describe('startDueWaker (real Redis)', () => {
  it('sets the ready marker of the queue whose scheduled run fell due, and only while leading', async () => {
    const q = queues['trading-cycle'];
    const other = queues['trading-cycle-priority'];
    let leading = false;
    const waker = startDueWaker(queues, { isLeader: () => leading, pollMs: 50 });
    try {
      const due = Date.now() + 400;
      await q.upsertJobScheduler('w:SPY', { every: 3_600_000, startDate: due }, { name: 'cycle', data: {} });
      // BullMQ itself only leaves a delay marker (the due time as score) for the worker's blocking pop.
      expect(await woken(q)).toBe(false);
      await waitFor(async () => Date.now() > due + 200, 5_000);
      expect(await woken(q)).toBe(false); // a follower never writes
      // A run already overdue is not nudged (a worker that is free takes it anyway)...
      leading = true;
      await new Promise((r) => setTimeout(r, 300));
      expect(await woken(q)).toBe(false);
      // ...the next one due is. Due 2 s ahead: a loaded machine must not make it overdue before it is seen.
      await q.upsertJobScheduler('w:TSLA', { every: 3_600_000, startDate: Date.now() + 2_000 }, { name: 'cycle', data: {} });
      await waitFor(() => woken(q), 10_000);
      expect(await woken(other)).toBe(false);
    } finally {
      waker.stop();
    }
  });

  it('never sets the marker before the run is due by the clock, where the worker would find nothing to take', async () => {
    const q = queues['trading-cycle'];
    await redis.del(q.keys.marker!); // the test before left its wake-up
    const waker = startDueWaker(queues, { isLeader: () => true, pollMs: 50 });
    try {
      const due = Date.now() + 1_500;
      await q.upsertJobScheduler('early:SPY', { every: 3_600_000, startDate: due }, { name: 'cycle', data: {} });
      // Read as fast as Redis answers: a marker set ahead of the due time is seen before it.
      let seenAt = 0;
      while (!seenAt && Date.now() < due + 5_000) if (await woken(q)) seenAt = Date.now();
      expect(seenAt).toBeGreaterThanOrEqual(due);
    } finally {
      waker.stop();
    }
  });
});

import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { QueueName } from '../core/index.ts';

export interface DueWaker {
  stop(): void;
}

/**
 * Wakes the workers when a scheduled run falls due. A BullMQ worker waits for its next delayed run
 * in a blocking pop with that run's due time as timeout, but Redis checks blocked clients' timeouts
 * only on its own clock tick (`hz`, 10 a second by default): on a quiet Redis a run starts up to
 * 100 ms late. At each due time the leader adds the "job ready" marker BullMQ itself adds for a
 * waiting job, which wakes a blocked worker at once; it then promotes and takes the run as usual.
 * A marker that finds nothing due (a worker whose clock runs behind ours) only sends the worker back
 * to wait. The next due times come from the job schedulers' sorted set (plain milliseconds), polled
 * every `pollMs`.
 */
export function startDueWaker(queues: Record<QueueName, Queue>, opts: { isLeader: () => boolean; pollMs?: number; onError?: (err: Error) => void }): DueWaker {
  const pollMs = opts.pollMs ?? 200;
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;

  const cycle = async () => {
    timer = null;
    if (stopped) return;
    let wait = pollMs;
    try {
      if (opts.isLeader()) {
        const now = Date.now();
        const nexts = await Promise.all(
          Object.values(queues).map(async (q) => {
            const client = (await q.backend.client) as unknown as Redis;
            const [, score] = await client.zrangebyscore(q.keys.repeat!, `(${now}`, '+inf', 'WITHSCORES', 'LIMIT', 0, 1);
            return { q, client, due: score === undefined ? Infinity : Number(score) };
          }),
        );
        const earliest = Math.min(...nexts.map((n) => n.due));
        if (earliest - Date.now() <= pollMs) {
          // A timer fires 1–3 ms after the time asked: it is asked for 2 ms early, and the rest is
          // waited turn by turn of the event loop (untilDue).
          wait = Math.max(0, earliest - Date.now() - 2);
          timer = setTimeout(() => untilDue(earliest, () => void wake(nexts.filter((n) => n.due === earliest))), wait);
          return;
        }
      }
    } catch (err) {
      opts.onError?.(err as Error);
    }
    if (!stopped) timer = setTimeout(() => void cycle(), wait);
  };

  /**
   * Calls `then` on the first turn of the event loop at which the clock reads `due`: the worker
   * promotes a run once its own clock reads the run's due time, and a marker before that finds
   * nothing due and sends it back to wait (by Redis's clock tick). Other work runs in between turns.
   */
  const untilDue = (due: number, then: () => void) => {
    timer = null;
    if (stopped) return;
    if (Date.now() >= due) then();
    else setImmediate(() => untilDue(due, then));
  };

  const wake = async (due: Array<{ q: Queue; client: Redis }>) => {
    timer = null;
    if (stopped) return;
    try {
      if (opts.isLeader()) await Promise.all(due.map(({ q, client }) => client.zadd(q.keys.marker!, 0, '0')));
    } catch (err) {
      opts.onError?.(err as Error);
    }
    void cycle();
  };

  void cycle();
  return {
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}

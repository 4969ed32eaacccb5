import { hostname } from 'node:os';
import { QueueEvents } from 'bullmq';
import { closeQueues, createRedisConnection, DEFAULT_QUEUE, openQueues, productKeys, type Config, type Logger, type RunningService } from '../core/index.ts';
import { readWorkers } from '../tasks/index.ts';
import { MarketCalendar } from '../calendar/index.ts';
import { tickReplay, type CoordinatorDeps } from './replay-coordinator.ts';
import { archiveReplay } from './replay-service.ts';
import { ReplayLease } from './replay-lease.ts';
import { replayKeys, runningReplayIds } from './replay-store.ts';

export interface ReplayHostOptions {
  /** How often the host looks for running replays no coordinator drives (1 s). */
  pollMs?: number;
  /** Lease TTL: how soon another host takes over a replay whose coordinator died (10 s). */
  leaseTtlMs?: number;
  /** A coordinator's safety poll between queue events (500 ms). */
  tickMs?: number;
  now?: () => Date;
}

export interface ReplayHost extends RunningService {
  /** Replay ids this process drives now. */
  driving(): string[];
}

/**
 * Hosts replay coordinators in a long-running process (the scheduler): finds running replays, takes a
 * lease per replay so one coordinator drives each, and ticks it whenever one of its cycles finishes
 * (queue events) or the safety poll fires. A killed host's replays are picked up by another host
 * after the lease TTL and resume from Redis.
 */
export async function startReplayHost(config: Config, logger: Logger, opts: ReplayHostOptions = {}): Promise<ReplayHost> {
  const redis = createRedisConnection(config, 'worker');
  const keys = productKeys(config.QUEUE_PREFIX);
  const queues = openQueues(redis, config.QUEUE_PREFIX, (err) => logger.debug({ err: err.message }, 'replay queue connection error'));
  const eventsConnection = createRedisConnection(config, 'worker');
  const events = new QueueEvents(DEFAULT_QUEUE, { connection: eventsConnection, prefix: config.QUEUE_PREFIX });
  events.on('error', (err) => logger.debug({ err: err.message }, 'replay queue events error'));
  const holder = `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
  const log = logger.child({ replay_host: holder });
  const ttl = opts.leaseTtlMs ?? 10_000;
  const tickMs = opts.tickMs ?? 500;
  const wakers = new Map<string, () => void>();
  const missed = new Set<string>();
  let stopped = false;

  const deps: CoordinatorDeps = {
    redis,
    keys,
    config,
    logger: log,
    queues,
    now: opts.now,
    async concurrency() {
      const workers = (await readWorkers(redis, keys)).filter((w) => w.online && w.queues.includes(DEFAULT_QUEUE));
      return workers.reduce((n, w) => n + w.concurrency, 0);
    },
  };

  const onEvent = ({ jobId }: { jobId: string }) => {
    if (!jobId.startsWith('replay-')) return;
    for (const id of driving.keys()) {
      if (!jobId.startsWith(`replay-${id}-`)) continue;
      // An event during a tick must not be lost: the next wait then returns at once.
      const wake = wakers.get(id);
      if (wake) wake();
      else missed.add(id);
    }
  };
  events.on('completed', onEvent);
  events.on('failed', onEvent);

  async function drive(id: string, lease: ReplayLease): Promise<void> {
    const cache = {};
    log.info({ replay: id }, 'driving replay');
    try {
      while (!stopped) {
        const result = await tickReplay(deps, id, lease, cache);
        if (result !== 'continue') {
          if (result === 'finished' && config.DATABASE_URL) {
            const archived = { redis, keys, queues, calendar: new MarketCalendar({ extraClosures: config.MARKET_CLOSURES }), now: opts.now ?? (() => new Date()) };
            await archiveReplay(archived, id).catch((err: unknown) => log.warn({ replay: id, err: (err as Error).message }, 'replay report not queued for the durable history'));
          }
          if (result === 'lease_lost') log.warn({ replay: id }, 'replay lease lost: another host drives it');
          break;
        }
        if (missed.delete(id)) continue;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(done, tickMs);
          function done() {
            clearTimeout(timer);
            wakers.delete(id);
            resolve();
          }
          wakers.set(id, done);
        });
      }
    } catch (err) {
      log.error({ replay: id, err: (err as Error).message }, 'replay coordinator error; retried on the next poll');
    } finally {
      wakers.delete(id);
      driving.delete(id);
      await lease.release().catch(() => undefined);
    }
  }

  const driving = new Map<string, Promise<void>>();
  async function poll(): Promise<void> {
    if (stopped) return;
    try {
      for (const id of await runningReplayIds(redis, keys)) {
        if (driving.has(id)) continue;
        const lease = new ReplayLease(redis, replayKeys(keys).lease(id), holder, ttl);
        if (await lease.acquire()) driving.set(id, drive(id, lease));
      }
    } catch (err) {
      log.debug({ err: (err as Error).message }, 'replay poll failed');
    }
  }
  await poll();
  const timer = setInterval(() => void poll(), opts.pollMs ?? 1_000);
  log.info({ leaseTtlMs: ttl }, 'replay host started');

  return {
    driving: () => [...driving.keys()],
    async stop() {
      stopped = true;
      clearInterval(timer);
      for (const wake of wakers.values()) wake();
      await Promise.allSettled(driving.values());
      await events.close().catch(() => undefined);
      eventsConnection.disconnect();
      await closeQueues(queues);
      redis.disconnect();
    },
  };
}

import { hostname } from 'node:os';
import type { Queue } from 'bullmq';
import { MarketCalendar } from '../calendar/index.ts';
import {
  closeQueues,
  createRedisConnection,
  cycleJobOptions,
  CYCLE_JOB_NAME,
  describeRedisUrl,
  incrementCounter,
  openQueues,
  productKeys,
  publishEvent,
  schedulerKey,
  type Config,
  type Logger,
  type QueueName,
  type RunningService,
} from '../core/index.ts';
import { lastDueInstant } from './catch-up.ts';
import { desiredSchedulers, type DesiredScheduler } from './desired-schedulers.ts';
import { LeaderLease } from './leader-lease.ts';
import { reconcileSchedulers, type ReconcileReport } from './reconcile.ts';
import { loadScheduleFile, ScheduleFileError, type ScheduleSet } from './schedule-file.ts';
import { watchScheduleFile } from './schedule-file-watcher.ts';
import { publishLoadFailure, publishScheduleSet, readPausedIds } from './schedule-registry.ts';
import { findStalledSchedulers } from './scheduler-watchdog.ts';

export interface SchedulerDeps {
  now?: () => Date;
  /** How often the leader re-arms windows (and non-leaders try to take over). */
  tickMs?: number;
  watchdogMs?: number;
  leaseTtlMs?: number;
  /** Watch the schedule file for changes (on by default). */
  watch?: boolean;
}

export interface SchedulerService extends RunningService {
  /** Re-reads the schedule file and reconciles; an invalid file leaves the last good schedule running. */
  reload(): Promise<ReconcileReport | null>;
  /** Runs one watchdog pass now; returns the re-armed scheduler keys. */
  runWatchdog(): Promise<string[]>;
  readonly queues: Record<QueueName, Queue>;
  readonly id: string;
  current(): ScheduleSet | null;
  isLeader(): boolean;
}

/**
 * The product's "beat": turns schedules.yaml into BullMQ job schedulers windowed to market sessions,
 * keeps them in sync with the file, re-arms them at each close, and watches that none silently stops.
 * Several may run against one Redis: a leader lease lets one write at a time.
 */
export async function startScheduler(config: Config, logger: Logger, deps: SchedulerDeps = {}): Promise<SchedulerService> {
  const now = deps.now ?? (() => new Date());
  const id = `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
  const redis = createRedisConnection(config, 'worker');
  const subscriber = createRedisConnection(config, 'worker');
  const keys = productKeys(config.QUEUE_PREFIX);
  const queues = openQueues(redis, config.QUEUE_PREFIX, (err, queue) => logger.debug({ err: err.message, queue }, 'queue connection error'));
  const calendar = new MarketCalendar({ extraClosures: config.MARKET_CLOSURES });
  const lease = new LeaderLease(redis, keys.lock('scheduler-leader'), id, deps.leaseTtlMs ?? 15_000);
  const log = logger.child({ scheduler: id });
  let current: ScheduleSet | null = null;
  let lastWatchdog = 0;
  let stopped = false;
  // Rounds are serialised: two overlapping reconciles could interleave upserts and removals.
  let chain: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const next = chain.then(fn);
    chain = next.catch(() => undefined);
    return next;
  };

  const loadFile = async (): Promise<ScheduleSet | null> => {
    try {
      return await loadScheduleFile(config.SCHEDULES_FILE);
    } catch (err) {
      if (!(err instanceof ScheduleFileError)) throw err;
      log.error({ file: config.SCHEDULES_FILE, issues: err.issues }, `schedule file rejected; the last good schedule keeps running:\n${err.message}`);
      await publishLoadFailure(redis, keys, config.SCHEDULES_FILE, err.message, now());
      return null;
    }
  };

  const desiredNow = async (set: ScheduleSet): Promise<DesiredScheduler[]> =>
    desiredSchedulers(set, await readPausedIds(redis, keys), calendar, now());

  /** Reconciles Redis with `set` when we lead; a follower only keeps the set to take over with. */
  const applySet = async (set: ScheduleSet, why: string): Promise<ReconcileReport | null> => {
    const changedFile = current !== set;
    current = set;
    if (!(await lease.acquireOrRenew())) return null;
    const report = await reconcileSchedulers(queues, await desiredNow(set));
    if (changedFile) await publishScheduleSet(redis, keys, set, now());
    const changed = report.added.length + report.updated.length + report.removed.length > 0;
    if (changed || changedFile) {
      log.info({ why, added: report.added, updated: report.updated, removed: report.removed, unchanged: report.unchanged }, `schedules reconciled (${why})`);
      await publishEvent(redis, keys, 'schedule.changed', { why, added: report.added, updated: report.updated, removed: report.removed });
    }
    return report;
  };

  const reload = () =>
    serial(async () => {
      const set = await loadFile();
      return set ? applySet(set, 'file loaded') : null;
    });

  const runWatchdog = () =>
    serial(async () => {
      if (!current || !(await lease.acquireOrRenew())) return [];
      const desired = await desiredNow(current);
      const stalled = await findStalledSchedulers(queues, desired, now().getTime());
      for (const s of stalled) {
        const d = desired.find((x) => x.key === s.key)!;
        await queues[d.queue].upsertJobScheduler(d.key, d.repeat, d.template);
        log.warn({ schedulerKey: s.key, reason: s.reason }, 'watchdog re-armed a stalled job scheduler');
        await incrementCounter(redis, keys, 'schedule_rearmed_total', { schedule: s.scheduleId });
        await publishEvent(redis, keys, 'schedule.rearmed', { schedule_id: s.scheduleId, key: s.key, reason: s.reason });
      }
      lastWatchdog = Date.now();
      return stalled.map((s) => s.key);
    });

  /** After downtime: at most one cycle per (schedule, ticker), if its last due run is younger than catch_up. */
  const catchUp = async (set: ScheduleSet) => {
    const paused = await readPausedIds(redis, keys);
    const t = now().getTime();
    for (const entry of set.schedules) {
      if (!entry.enabled || paused.has(entry.id) || entry.catch_up === 'none' || !entry.every) continue;
      const profile = set.agents[entry.agent];
      if (!profile) continue;
      for (const ticker of entry.tickers) {
        const key = schedulerKey(entry.id, ticker);
        const existing = await queues[entry.queue].getJobScheduler(key);
        const due = lastDueInstant(entry, calendar, t, entry.catch_up, existing?.offset ?? 0);
        if (due === null) continue;
        const last = await redis.hget(keys.lastRuns, key);
        const lastDue = last ? Number((JSON.parse(last) as { due_at?: number }).due_at ?? 0) : 0;
        if (lastDue >= due) continue;
        // A BullMQ run for that very instant may still be pending: then it is not missed.
        if (await queues[entry.queue].getJob(`repeat:${key}:${due}`)) continue;
        await queues[entry.queue].add(
          CYCLE_JOB_NAME,
          {
            agent: entry.agent,
            ticker,
            schedule_id: entry.id,
            trigger: 'schedule',
            dry_run: entry.dry_run,
            requested_at: new Date(due).toISOString(),
            market_hours: entry.market_hours,
            profile,
            options: {},
            interval_ms: entry.every,
            catch_up_ms: entry.catch_up,
            max_start_delay_ms: entry.max_start_delay ?? null,
            overlap: entry.overlap,
            soft_time_limit_ms: entry.soft_time_limit ?? null,
            hard_time_limit_ms: entry.hard_time_limit ?? null,
          },
          // The id makes a catch-up idempotent across restarts and between two schedulers.
          { ...cycleJobOptions(entry.queue), jobId: `catchup:${key}:${due}` },
        );
        log.info({ schedulerKey: key, dueAt: new Date(due).toISOString() }, 'catch-up: one missed cycle enqueued');
      }
    }
  };

  /** Leader work on every tick: re-arm windows (a no-op inside a session), watchdog every watchdogMs. */
  const tick = async () => {
    if (stopped) return;
    try {
      const wasLeader = lease.isHeld();
      await serial(async () => {
        if (current) await applySet(current, wasLeader ? 're-arm' : 'took the scheduler lead');
        if (!wasLeader && lease.isHeld() && current) await catchUp(current);
      });
      if (lease.isHeld() && Date.now() - lastWatchdog >= (deps.watchdogMs ?? 30_000)) await runWatchdog();
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'scheduler tick failed; retrying');
    }
  };

  log.info({ redis: describeRedisUrl(config.REDIS_URL), prefix: config.QUEUE_PREFIX }, 'scheduler starting');
  const first = await loadFile();
  if (first) {
    await serial(async () => {
      await applySet(first, 'start-up');
      if (lease.isHeld()) await catchUp(first);
    });
    await publishScheduleSet(redis, keys, first, now());
  }
  if (lease.isHeld()) await runWatchdog();

  // Pause/resume and reload requests from the API.
  await subscriber.subscribe(keys.controlChannel);
  subscriber.on('message', (_channel, message) => {
    log.info({ message }, 'control message');
    void (current ? serial(() => applySet(current!, `control: ${message}`)) : reload()).catch((err: unknown) =>
      log.error({ err }, 'control message failed'),
    );
  });
  const watcher =
    deps.watch === false
      ? null
      : watchScheduleFile(config.SCHEDULES_FILE, () => {
          log.info({ file: config.SCHEDULES_FILE }, 'schedule file changed');
          void reload().catch((err: unknown) => log.error({ err }, 'reload failed'));
        });
  const ticker = setInterval(() => void tick(), deps.tickMs ?? 5_000);

  return {
    id,
    queues,
    reload,
    runWatchdog,
    current: () => current,
    isLeader: () => lease.isHeld(),
    async stop() {
      stopped = true;
      clearInterval(ticker);
      watcher?.close();
      await chain.catch(() => undefined);
      await lease.release().catch(() => undefined);
      await closeQueues(queues);
      subscriber.disconnect();
      redis.disconnect();
    },
  };
}


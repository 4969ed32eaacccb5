import { hostname } from 'node:os';
import { resolve } from 'node:path';
import type { Queue } from 'bullmq';
import { MarketCalendar } from '../calendar/index.ts';
import {
  closeQueues,
  createRedisConnection,
  describeRedis,
  incrementCounter,
  openQueues,
  productKeys,
  publishEvent,
  type Config,
  type Logger,
  type QueueName,
  type RunningService,
} from '../core/index.ts';
import { catchUpMissedRuns } from './catch-up.ts';
import { changedEntries } from './changed-entries.ts';
import { memoRepeatStrategy } from './cron-pattern.ts';
import { desiredSchedulers, type DesiredScheduler } from './desired-schedulers.ts';
import { startDueWaker } from './due-waker.ts';
import { LeaderLease, LeaseLostError } from './leader-lease.ts';
import { reconcileSchedulers, type ReconcileReport } from './reconcile.ts';
import { RETENTION_EVERY_MS, runRetentionPass } from './retention-pass.ts';
import { loadScheduleFile, parseScheduleText, ScheduleFileError, type ScheduleSet } from './schedule-file.ts';
import { watchScheduleFile } from './schedule-file-watcher.ts';
import { publishLoadFailure, publishScheduleSet, readPausedIds } from './schedule-registry.ts';
import { conflictMessage, readPublishedSource, removePresence, writePresence, type PublishedSource } from './schedule-source.ts';
import { readSchedulerIds } from './scheduler-states.ts';
import { findStalledSchedulers } from './scheduler-watchdog.ts';
import type { SessionCalendar } from './session-window.ts';

export interface SchedulerDeps {
  /** The clock for windows, catch-up and the watchdog (BullMQ itself keeps the real one). */
  now?: () => Date;
  /** How often the leader re-arms windows and followers try to take the lead (5 s). */
  tickMs?: number;
  /** How often the leader's watchdog looks for stalled job schedulers (30 s). */
  watchdogMs?: number;
  leaseTtlMs?: number;
  /** Watch the schedule file for changes (on by default). */
  watch?: boolean;
  /** The schedule file's content poll, for file systems without change events (1 s). */
  pollMs?: number;
  /** Wake blocked workers at each scheduled run's due time (on by default; see due-waker.ts). */
  wakeWorkers?: boolean;
  /** The market calendar (default: the NYSE calendar with MARKET_CLOSURES). */
  calendar?: SessionCalendar;
}

export interface SchedulerService extends RunningService {
  /** Re-reads the schedule file and reconciles; an invalid file leaves the last good schedule running. */
  reload(): Promise<ReconcileReport | null>;
  /** Runs one watchdog pass now; returns the re-armed scheduler keys. */
  runWatchdog(): Promise<string[]>;
  readonly queues: Record<QueueName, Queue>;
  readonly id: string;
  /** The set loaded from this scheduler's own file. */
  current(): ScheduleSet | null;
  /** The set it ran in its last leader round: its own, or the published one when its file differs. */
  running(): ScheduleSet | null;
  isLeader(): boolean;
}

/**
 * The product's "beat": turns schedules.yaml into BullMQ job schedulers windowed to market sessions,
 * keeps them in sync with the file, re-arms them for each next session, and watches that none
 * silently stops. Several may run against one Redis: a leader lease lets one write at a time; the
 * others keep the file loaded and take over when the lease lapses.
 */
export async function startScheduler(config: Config, logger: Logger, deps: SchedulerDeps = {}): Promise<SchedulerService> {
  const now = deps.now ?? (() => new Date());
  const id = `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
  const redis = createRedisConnection(config, 'worker');
  const subscriber = createRedisConnection(config, 'worker');
  const keys = productKeys(config.QUEUE_PREFIX);
  const queues = openQueues(redis, config.QUEUE_PREFIX, (err, queue) => logger.debug({ err: err.message, queue }, 'queue connection error'), { repeatStrategy: memoRepeatStrategy() });
  const calendar = deps.calendar ?? new MarketCalendar({ extraClosures: config.MARKET_CLOSURES });
  const lease = new LeaderLease(redis, keys.lock('scheduler-leader'), id, deps.leaseTtlMs ?? 15_000);
  const guard = () => lease.guard();
  const log = logger.child({ scheduler: id });
  const host = hostname();
  const ownFile = resolve(config.SCHEDULES_FILE);
  let current: ScheduleSet | null = null;
  let running: ScheduleSet | null = null;
  let published: ScheduleSet | null = null;
  /** The published source parsed, by hash: what a leader with a differing file runs. */
  let publishedSet: ScheduleSet | null = null;
  /** When the file last changed on disk while this scheduler led: that edit wins over anything published before it. */
  let editedAt = 0;
  let loggedConflict = '';
  /** The set the last reconcile made Redis hold, in which tenure, with which schedules paused. */
  let applied: { set: ScheduleSet; fence: number; paused: string } | null = null;
  /** The fencing number of the tenure whose take-over work (catch-up, publishing) is done. */
  let settledFence = 0;
  /**
   * The job schedulers that existed when this tenure began, read once per tenure: a take-over round that
   * fails part-way is retried, and what its first try added must not look like a scheduler that was behind.
   */
  let existedAtTakeOver: { fence: number; keys: Set<string> } | null = null;
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
      // Only the leader speaks for the product; a follower's view of the file is its own business.
      if (lease.isHeld()) await publishLoadFailure(redis, keys, config.SCHEDULES_FILE, err.message, now());
      return null;
    }
  };

  const desiredNow = async (set: ScheduleSet): Promise<DesiredScheduler[]> =>
    desiredSchedulers(set, await readPausedIds(redis, keys), calendar, now(), config);

  const existingKeys = async (): Promise<Set<string>> => new Set((await Promise.all(Object.values(queues).map(readSchedulerIds))).flat());

  /**
   * One schedule source: our own file runs, and is published, when nothing is published yet, when it is
   * the published one, when it was edited while we led, or when the published one came from this same
   * host and path (a restart after an edit). Otherwise another host published a different file: we run
   * that one and never overwrite it.
   */
  const chooseSet = async (own: ScheduleSet): Promise<{ set: ScheduleSet; mayPublish: boolean; source: PublishedSource | null }> => {
    const source = await readPublishedSource(redis, keys);
    const edited = editedAt > 0 && Date.parse(source?.published_at ?? '') < editedAt;
    if (!source || source.hash === own.hash || edited || (source.host === host && resolve(source.file) === ownFile)) return { set: own, mayPublish: true, source };
    if (publishedSet?.hash !== source.hash) publishedSet = parseScheduleText(source.text, source.file);
    return { set: publishedSet, mayPublish: false, source };
  };

  /** Every tick, leader or not: our presence (the scheduler's heartbeat) and any source conflict, logged once per pair. */
  const reportPresence = async () => {
    const source = await readPublishedSource(redis, keys);
    const presence = {
      scheduler: id,
      host,
      file: ownFile,
      local_hash: current?.hash ?? null,
      running_hash: lease.isHeld() ? (running?.hash ?? null) : null,
      published_hash: source?.hash ?? null,
      leader: lease.isHeld(),
      at: now().toISOString(),
    };
    await writePresence(redis, keys, presence);
    const pair = presence.local_hash && presence.published_hash && presence.local_hash !== presence.published_hash ? `${presence.local_hash}/${presence.published_hash}/${presence.leader}` : '';
    if (pair && pair !== loggedConflict) {
      log.error({ file: ownFile, localHash: presence.local_hash, publishedHash: presence.published_hash, publishedBy: source?.host }, conflictMessage(presence));
    } else if (!pair && loggedConflict) log.info({ hash: presence.local_hash }, 'schedule file matches the published schedule again');
    loggedConflict = pair;
  };

  /**
   * One leader round with `set`: take or renew the lease, reconcile, publish what we run. On taking
   * the lead (start-up, or a leader gone) also apply the missed-run policy. A follower only keeps the
   * set to take over with.
   */
  const lead = async (own: ScheduleSet, why: string): Promise<ReconcileReport | null> => {
    current = own;
    if (!(await lease.acquireOrRenew())) return null;
    const { set, mayPublish } = await chooseSet(own);
    running = set;
    const tookLead = lease.fence() !== settledFence;
    if (tookLead) {
      log.info({ fence: lease.fence(), why }, 'took the scheduler lead');
      published = null;
    }
    if (tookLead && existedAtTakeOver?.fence !== lease.fence()) existedAtTakeOver = { fence: lease.fence(), keys: await existingKeys() };
    const existedBefore = tookLead ? existedAtTakeOver!.keys : null;
    const paused = await readPausedIds(redis, keys);
    const pausedKey = [...paused].sort().join('\n');
    // A file edit in this tenure, with the pauses as last applied, touches only the entries it changed.
    const edit = why === 'file loaded' && applied && applied.fence === lease.fence() && applied.paused === pausedKey && !tookLead ? changedEntries(applied.set, set) : null;
    const planned = edit ? { ...set, schedules: set.schedules.filter((e) => edit.ids.has(e.id)) } : set;
    const desired = desiredSchedulers(planned, paused, calendar, now(), config);
    const report = await reconcileSchedulers(queues, desired, edit ? { guard, scope: edit.keys, now: now().getTime() } : { guard, now: now().getTime() });
    applied = { set, fence: lease.fence(), paused: pausedKey };
    const fileChanged = published !== set;
    if (fileChanged) {
      await guard();
      // A differing file's leader writes the published set's entries (the same schedule), never the source.
      await publishScheduleSet(redis, keys, set, now(), mayPublish ? { host, scheduler: id } : undefined);
      published = set;
    }
    const changed = report.added.length + report.updated.length + report.removed.length + report.rolled.length > 0;
    if (changed || fileChanged) {
      const summary = { why, added: report.added, updated: report.updated, removed: report.removed, rolled: report.rolled };
      log.info({ ...summary, unchanged: report.unchanged, keptDueRuns: report.kept }, `schedules reconciled (${why})`);
      await publishEvent(redis, keys, 'schedule.changed', summary);
    }
    if (existedBefore) {
      // Once per tenure, whatever happens: a catch-up that fails is logged, never retried tick after tick.
      settledFence = lease.fence();
      existedAtTakeOver = null;
      try {
        const { enqueued, failed } = await catchUpMissedRuns({ redis, keys, queues, calendar }, desired, existedBefore, now().getTime());
        for (const jobId of enqueued) log.info({ jobId }, 'catch-up: one missed cycle enqueued');
        for (const f of failed) log.error({ schedulerKey: f.key, err: f.error }, 'catch-up failed for this scheduler; its missed run is not caught up');
      } catch (err) {
        log.error({ err: (err as Error).message }, 'catch-up failed; missed runs are not caught up in this tenure');
      }
    }
    return report;
  };

  const reload = () =>
    serial(async () => {
      const set = await loadFile();
      return set ? lead(set, 'file loaded') : null;
    });

  const runWatchdog = () =>
    serial(async () => {
      const set = running ?? current;
      if (!set || !(await lease.acquireOrRenew())) return [];
      const desired = await desiredNow(set);
      const stalled = await findStalledSchedulers(queues, desired, now().getTime());
      for (const s of stalled) {
        const d = desired.find((x) => x.key === s.key)!;
        await guard();
        if (s.action === 'recreate') await queues[d.queue].removeJobScheduler(d.key);
        await queues[d.queue].upsertJobScheduler(d.key, d.repeat, d.template);
        log.warn({ schedulerKey: s.key, reason: s.reason }, 'watchdog re-armed a stalled job scheduler');
        await incrementCounter(redis, keys, 'schedule_rearmed_total', { schedule: s.scheduleId });
        await publishEvent(redis, keys, 'schedule.rearmed', { schedule_id: s.scheduleId, key: s.key, reason: s.reason });
      }
      lastWatchdog = Date.now();
      return stalled.map((s) => s.key);
    });

  const onRoundError = (err: unknown, what: string) => {
    if (err instanceof LeaseLostError) log.warn({ err: err.message }, `${what}: lost the scheduler lead; another scheduler takes over`);
    else log.warn({ err: (err as Error).message }, `${what} failed; retrying on the next tick`);
  };

  let lastRetention = 0;
  /** Every tick: re-arm windows whose session has no run left (an empty diff otherwise), watchdog when due. */
  const tick = async () => {
    if (stopped) return;
    await reportPresence().catch((err: unknown) => onRoundError(err, 'scheduler presence'));
    if (!current) return;
    try {
      await serial(() => lead(current!, 're-arm'));
      if (lease.isHeld() && Date.now() - lastWatchdog >= (deps.watchdogMs ?? 30_000)) await runWatchdog();
      if (lease.isHeld() && Date.now() - lastRetention >= RETENTION_EVERY_MS) {
        lastRetention = Date.now();
        const removed = await runRetentionPass(redis, keys, config, now());
        if (removed.decisions + removed.trades + removed.indexEntries > 0) log.info(removed, 'retention pass: old history removed');
      }
    } catch (err) {
      onRoundError(err, 'scheduler tick');
    }
  };

  log.info({ redis: describeRedis(config), prefix: config.QUEUE_PREFIX, file: config.SCHEDULES_FILE }, 'scheduler starting');
  // Watch before the first load: a write between the load and the watch's baseline would be lost.
  const watcher =
    deps.watch === false
      ? null
      : watchScheduleFile(
          config.SCHEDULES_FILE,
          () => {
            log.info({ file: config.SCHEDULES_FILE }, 'schedule file changed');
            if (lease.isHeld()) editedAt = Date.now();
            void reload().catch((err: unknown) => onRoundError(err, 'reload'));
          },
          deps.pollMs === undefined ? {} : { pollMs: deps.pollMs },
        );
  // Lead first, so that a start-up load failure is published by the leader.
  await lease.acquireOrRenew();
  // Load inside the serial chain, so a reload the watcher already queued cannot be overtaken by an older read.
  await serial(async () => {
    const first = await loadFile();
    if (first) await lead(first, 'start-up');
  }).catch((err: unknown) => onRoundError(err, 'start-up'));
  if (current && lease.isHeld()) await runWatchdog().catch((err: unknown) => onRoundError(err, 'start-up watchdog'));
  await reportPresence().catch((err: unknown) => onRoundError(err, 'scheduler presence'));

  // Pause/resume and reload requests from the API and the CLI.
  await subscriber.subscribe(keys.controlChannel);
  subscriber.on('message', (_channel, message: string) => {
    log.info({ message }, 'control message');
    const round = message === 'reload' || !current ? reload() : serial(() => lead(current!, `control: ${message}`));
    void round.catch((err: unknown) => onRoundError(err, 'control message'));
  });
  const ticker = setInterval(() => void tick(), deps.tickMs ?? 5_000);
  const waker = deps.wakeWorkers === false ? null : startDueWaker(queues, { isLeader: () => lease.isHeld() && !stopped, onError: (err) => log.debug({ err: err.message }, 'due waker: Redis call failed') });

  return {
    id,
    queues,
    reload,
    runWatchdog,
    current: () => current,
    running: () => running,
    isLeader: () => lease.isHeld(),
    async stop() {
      stopped = true;
      clearInterval(ticker);
      waker?.stop();
      watcher?.close();
      await chain.catch(() => undefined);
      await lease.release().catch(() => undefined);
      await removePresence(redis, keys, id).catch(() => undefined);
      await closeQueues(queues);
      subscriber.disconnect();
      redis.disconnect();
    },
  };
}

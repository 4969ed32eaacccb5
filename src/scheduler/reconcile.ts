import type { Queue } from 'bullmq';
import type { QueueName } from '../core/index.ts';
import { mapConcurrent } from './bounded-concurrency.ts';
import type { DesiredScheduler } from './desired-schedulers.ts';
import { dropKeptRun, dueRunPending, firstRunAfter, keepDueRun, keptRunsOf, runIdOf, type KeptRun } from './kept-runs.ts';
import { readSchedulerStates, templateDataHash, type SchedulerState } from './scheduler-states.ts';

export interface ReconcileReport {
  added: string[];
  updated: string[];
  removed: string[];
  /** Re-armed for their next session (the current one has no run left). */
  rolled: string[];
  /**
   * Job ids of runs that were due and waited for a worker when their scheduler was rewritten (an edit,
   * a roll, a move to another queue): kept, to run once, while the scheduler goes on with its new definition.
   */
  kept: string[];
  unchanged: number;
}

export interface ReconcileOptions {
  /** Called before every write; throws when this process may no longer write (lost the lead). */
  guard?: () => Promise<void>;
  /**
   * Only these scheduler keys are looked at (read, written, removed); the others are left as they are.
   * A reload after an edit passes the keys of the entries that changed, so it touches nothing else.
   */
  scope?: ReadonlySet<string>;
  /** The scheduler's clock: a run whose due time is at or before it is due (default: Date.now()). */
  now?: number;
}

type Existing = SchedulerState;

const PENDING = new Set(['delayed', 'waiting', 'prioritized']);

/**
 * Makes Redis hold exactly the desired job schedulers, by diff: unchanged ones are not touched,
 * changed ones are upserted in place, and only ids that left the file are removed
 * (remove-then-re-add has left schedulers with nothing pending upstream).
 *
 * Exceptions to "upsert in place": an `every` scheduler whose window moves (BullMQ keeps such a
 * scheduler's phase across upserts, next = previous run + every, ignoring a new startDate, which
 * would fire between sessions), and any scheduler whose write would drop a run that is due and
 * waits for a worker: that run is kept (kept-runs.ts), and the scheduler removed and added afresh.
 * A scheduler moved to another queue is added there and removed from the old one, its due run kept.
 */
export async function reconcileSchedulers(
  queues: Record<QueueName, Queue>,
  desired: DesiredScheduler[],
  opts: ReconcileOptions = {},
): Promise<ReconcileReport> {
  const guard = opts.guard ?? (async () => undefined);
  const now = opts.now ?? Date.now();
  const report: ReconcileReport = { added: [], updated: [], removed: [], rolled: [], kept: [], unchanged: 0 };
  const existing = new Map<string, { queue: QueueName; scheduler: Existing }>();
  const scope = opts.scope;
  if (scope) desired = desired.filter((d) => scope.has(d.key));
  const only = scope ? [...scope] : undefined;
  const lists = await Promise.all((Object.entries(queues) as [QueueName, Queue][]).map(async ([name, queue]) => ({ name, list: await readSchedulerStates(queue, only) })));
  for (const { name, list } of lists) for (const scheduler of list.values()) existing.set(`${name}\u0000${scheduler.key}`, { queue: name, scheduler });
  const wanted = new Map(desired.map((d) => [d.key, d.queue]));
  const elsewhere = (key: string, queue: QueueName) => wanted.has(key) && wanted.get(key) !== queue;

  // The diff is computed in memory; only what changed costs Redis calls, a window of them at a time.
  type Step = { d: DesiredScheduler; kind: 'add' | 'update' | 'roll'; recreate: boolean; current?: Existing; moved?: Existing; from?: QueueName; kept?: string };
  const steps: Step[] = [];
  for (const d of desired) {
    const current = existing.get(`${d.queue}\u0000${d.key}`)?.scheduler;
    if (!current) {
      // Moved here from another queue: that scheduler's due run is kept (below), the new one starts after it.
      const old = (Object.keys(queues) as QueueName[]).filter((q) => q !== d.queue).map((q) => existing.get(`${q}\u0000${d.key}`)).find(Boolean);
      steps.push(old ? { d, kind: 'update', recreate: false, moved: old.scheduler, from: old.queue } : { d, kind: 'add', recreate: false });
      continue;
    }
    const windowSame = sameWindow(current, d);
    const definitionSame = sameDefinition(current, d);
    if (windowSame && definitionSame) {
      report.unchanged++;
      continue;
    }
    const roll = !windowSame && definitionSame && current.endDate !== undefined && d.window !== null && d.window.open > current.endDate;
    steps.push({ d, kind: roll ? 'roll' : 'update', recreate: !windowSame && (d.repeat.every !== undefined || current.every !== undefined), current });
  }
  // A run already due that waits for a worker, where the write would drop it (see dropsDueRun), is kept.
  const dropping = steps.filter((st) => st.moved !== undefined || (st.current !== undefined && dropsDueRun(st)));
  const due = await mapConcurrent(dropping, WINDOW, (st) => dueRunPending(queues[st.from ?? st.d.queue], (st.moved ?? st.current)!, now));
  dropping.forEach((st, i) => void (due[i] && (st.kept = runIdOf((st.moved ?? st.current)!))));
  // What is not wanted on its queue goes. A move is done by its step; a scheduler left on another
  // queue by an interrupted move keeps its due run all the same.
  const movedFrom = new Set(steps.flatMap((st) => (st.from ? [`${st.from}\u0000${st.d.key}`] : [])));
  const removals = [...existing].filter(([id, v]) => wanted.get(v.scheduler.key) !== v.queue && !movedFrom.has(id)).map(([, v]) => v);
  const leftBehind = removals.filter((r) => elsewhere(r.scheduler.key, r.queue));
  const keepLeft = await mapConcurrent(leftBehind, WINDOW, (r) => dueRunPending(queues[r.queue], r.scheduler, now));
  const keepOnRemoval = new Set(leftBehind.filter((_, i) => keepLeft[i]));

  const forGood = removals.filter((r) => !elsewhere(r.scheduler.key, r.queue));
  const keptRuns = forGood.length ? await keptRunsOf(queues) : new Map<string, KeptRun>();

  // One fencing check per window of writes (a lost lease stops the round within one window).
  await inWindows(steps, guard, async (st) => {
    const queue = queues[st.d.queue];
    let repeat: DesiredScheduler['repeat'] = st.d.repeat;
    const old = st.moved ?? st.current;
    const oldQueue = queues[st.from ?? st.d.queue];
    if (st.kept) {
      await keepDueRun(st.from ?? st.d.queue, oldQueue, old!);
      // The kept run is waiting now: removing the scheduler leaves it, an upsert in place would not.
      await oldQueue.removeJobScheduler(st.d.key);
      repeat = firstRunAfter(st.d, old!.next);
    } else if (st.recreate || st.moved) await removeScheduler(oldQueue, old!);
    await queue.upsertJobScheduler(st.d.key, repeat, st.d.template);
  });
  for (const st of steps) {
    (st.kind === 'add' ? report.added : st.kind === 'roll' ? report.rolled : report.updated).push(st.d.key);
    if (st.kept) report.kept.push(st.kept);
  }
  await inWindows(removals, guard, async (r) => {
    const queue = queues[r.queue];
    if (keepOnRemoval.has(r)) {
      report.kept.push(await keepDueRun(r.queue, queue, r.scheduler));
      await queue.removeJobScheduler(r.scheduler.key);
    } else {
      await removeScheduler(queue, r.scheduler);
      // Removed for good (paused, or gone from the file): nothing of it stays pending.
      const kept = elsewhere(r.scheduler.key, r.queue) ? undefined : keptRuns.get(r.scheduler.key);
      if (kept) await dropKeptRun(queues, r.scheduler.key, kept);
    }
  });
  for (const r of forGood) report.removed.push(r.scheduler.key);
  return report;
}

/** How many scheduler writes or reads are in flight at once. */
const WINDOW = 64;

async function inWindows<T>(items: T[], guard: () => Promise<void>, fn: (item: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += WINDOW) {
    await guard();
    await Promise.all(items.slice(i, i + WINDOW).map(fn));
  }
}

/**
 * Removes a job scheduler and its pending run. BullMQ removes the run only while it is delayed; one
 * already due (waiting for a worker) would still fire, so it goes too: a paused schedule has nothing pending.
 */
async function removeScheduler(queue: Queue, scheduler: Existing): Promise<void> {
  await queue.removeJobScheduler(scheduler.key);
  // BullMQ's removal takes a delayed run with it; only a run elsewhere needs a look.
  if (!scheduler.next || scheduler.nextRun === 'missing' || scheduler.nextRun === 'delayed') return;
  const job = await queue.getJob(`repeat:${scheduler.key}:${scheduler.next}`);
  if (job && PENDING.has(await job.getState())) await job.remove().catch(() => undefined);
}

/**
 * Whether rewriting this scheduler would drop a run that is due but not started: BullMQ's upsert of a
 * cron scheduler removes its pending run and moves on to the pattern's next instant after now (a
 * roll of a cron window too), and a re-created scheduler starts afresh. An `every` scheduler upserted
 * in place keeps its run (the same due time, re-added with the new template), or, when its interval
 * changed, replaces it with one due at once: no run is lost either way.
 */
function dropsDueRun(st: { d: DesiredScheduler; recreate: boolean; current?: Existing }): boolean {
  return st.recreate || st.d.repeat.pattern !== undefined || st.current?.pattern !== undefined;
}

/** Same session (or both unwindowed). An `every` window armed mid-session starts at a later slot of the same grid. */
function sameWindow(current: Existing, d: DesiredScheduler): boolean {
  const w = d.window;
  if (!w) return current.startDate === undefined && current.endDate === undefined;
  if (current.endDate !== d.repeat.endDate || current.startDate === undefined) return false;
  if (d.repeat.every !== undefined) return current.startDate >= w.open && current.startDate < w.close;
  return current.startDate === d.repeat.startDate;
}

function sameDefinition(current: Existing, d: DesiredScheduler): boolean {
  const r = d.repeat;
  return (
    (current.every ?? undefined) === r.every &&
    (current.pattern ?? undefined) === r.pattern &&
    (r.pattern ? (current.tz ?? undefined) === r.tz : true) &&
    current.dataHash === templateDataHash(d.template.data) &&
    OPTS_COMPARED.every((k) => sameValue(current.opts[k], (d.template.opts as Record<string, unknown>)[k]))
  );
}

/** The template options the product sets (BullMQ adds others of its own). */
const OPTS_COMPARED = ['attempts', 'backoff', 'removeOnComplete', 'removeOnFail'] as const;

/** Deep equality of JSON values, key order ignored (thousands of small comparisons per round: no serialising). */
function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (!a || !b || typeof a !== 'object' || typeof b !== 'object' || Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  return ka.length === kb.length && ka.every((k) => sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

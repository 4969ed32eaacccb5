import type { Queue } from 'bullmq';
import type { QueueName } from '../core/index.ts';
import { mapConcurrent } from './bounded-concurrency.ts';
import type { DesiredScheduler } from './desired-schedulers.ts';
import { readSchedulerStates, templateDataHash, type SchedulerState } from './scheduler-states.ts';

export interface ReconcileReport {
  added: string[];
  updated: string[];
  removed: string[];
  /** Re-armed for their next session (the current one has no run left). */
  rolled: string[];
  /**
   * Left as they are for now, retried on the next tick: due to roll while the current session's last run has
   * not started yet, or changed while a due run that the write would drop still waits for a worker.
   */
  deferred: string[];
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
}

type Existing = SchedulerState;

const PENDING = new Set(['delayed', 'waiting', 'prioritized']);

/**
 * Makes Redis hold exactly the desired job schedulers, by diff: unchanged ones are not touched,
 * changed ones are upserted in place, and only ids that left the file are removed
 * (remove-then-re-add has left schedulers with nothing pending upstream).
 *
 * One exception to "upsert in place": an `every` scheduler whose window moves. BullMQ keeps such a
 * scheduler's phase across upserts (next = previous run + every, ignoring a new startDate), which
 * would fire between sessions; so it is removed and added afresh, and then fires at its startDate.
 */
export async function reconcileSchedulers(
  queues: Record<QueueName, Queue>,
  desired: DesiredScheduler[],
  opts: ReconcileOptions = {},
): Promise<ReconcileReport> {
  const guard = opts.guard ?? (async () => undefined);
  const report: ReconcileReport = { added: [], updated: [], removed: [], rolled: [], deferred: [], unchanged: 0 };
  const existing = new Map<string, { queue: QueueName; scheduler: Existing }>();
  const scope = opts.scope;
  if (scope) desired = desired.filter((d) => scope.has(d.key));
  const only = scope ? [...scope] : undefined;
  const lists = await Promise.all((Object.entries(queues) as [QueueName, Queue][]).map(async ([name, queue]) => ({ name, list: await readSchedulerStates(queue, only) })));
  for (const { name, list } of lists) for (const scheduler of list.values()) existing.set(`${name}\u0000${scheduler.key}`, { queue: name, scheduler });
  const wanted = new Set(desired.map((d) => `${d.queue}\u0000${d.key}`));

  // The diff is computed in memory; only what changed costs Redis calls, a window of them at a time.
  type Step = { d: DesiredScheduler; kind: 'add' | 'update' | 'roll'; recreate: boolean; current?: Existing };
  const steps: Step[] = [];
  const rollCandidates: Step[] = [];
  for (const d of desired) {
    const current = existing.get(`${d.queue}\u0000${d.key}`)?.scheduler;
    if (!current) {
      steps.push({ d, kind: 'add', recreate: false });
      continue;
    }
    const windowSame = sameWindow(current, d);
    const definitionSame = sameDefinition(current, d);
    if (windowSame && definitionSame) {
      report.unchanged++;
      continue;
    }
    const roll = !windowSame && definitionSame && current.endDate !== undefined && d.window !== null && d.window.open > current.endDate;
    const step: Step = { d, kind: roll ? 'roll' : 'update', recreate: !windowSame && (d.repeat.every !== undefined || current.every !== undefined), current };
    (roll ? rollCandidates : steps).push(step);
  }
  // Never drop the last run of a session that a busy (or stopped) worker has not started yet.
  const pending = await mapConcurrent(rollCandidates, WINDOW, (st) => lastRunPending(queues[st.d.queue], st.current!));
  rollCandidates.forEach((st, i) => (pending[i] ? report.deferred.push(st.d.key) : steps.push(st)));
  // Nor a run already due that waits for a worker, where the write would drop it (see dropsDueRun).
  const dropping = steps.filter((st) => st.kind === 'update' && dropsDueRun(st));
  const due = await mapConcurrent(dropping, WINDOW, (st) => dueRunPending(queues[st.d.queue], st.current!));
  const held = new Set(dropping.filter((_, i) => due[i]));
  if (held.size) {
    for (const st of held) report.deferred.push(st.d.key);
    steps.splice(0, steps.length, ...steps.filter((st) => !held.has(st)));
  }
  const removals = [...existing].filter(([id]) => !wanted.has(id)).map(([, v]) => v);

  // One fencing check per window of writes (a lost lease stops the round within one window).
  await inWindows(steps, guard, async (st) => {
    const queue = queues[st.d.queue];
    if (st.recreate) await removeScheduler(queue, st.current!);
    await queue.upsertJobScheduler(st.d.key, st.d.repeat, st.d.template);
  });
  for (const st of steps) (st.kind === 'add' ? report.added : st.kind === 'roll' ? report.rolled : report.updated).push(st.d.key);
  await inWindows(removals, guard, ({ queue, scheduler }) => removeScheduler(queues[queue], scheduler));
  for (const r of removals) report.removed.push(r.scheduler.key);
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

async function lastRunPending(queue: Queue, current: Existing): Promise<boolean> {
  if (!current.next || current.endDate === undefined || current.next > current.endDate + 1) return false;
  if (current.nextRun !== 'other') return current.nextRun !== 'missing';
  const job = await queue.getJob(`repeat:${current.key}:${current.next}`);
  return job !== undefined && PENDING.has(await job.getState());
}

/**
 * Whether rewriting this scheduler would drop a run that is due but not started: BullMQ's upsert of a
 * cron scheduler removes its pending run and moves on to the pattern's next instant after now, and
 * a re-created scheduler starts afresh. An `every` scheduler upserted in place keeps its run (the
 * same due time, re-added with the new template), so that one needs no wait.
 */
function dropsDueRun(st: { d: DesiredScheduler; recreate: boolean; current?: Existing }): boolean {
  return st.recreate || st.d.repeat.pattern !== undefined || st.current?.pattern !== undefined;
}

/** The scheduler's run is due by BullMQ's clock and still waiting for a worker (delayed, waiting or prioritized). */
async function dueRunPending(queue: Queue, current: Existing): Promise<boolean> {
  if (!current.next || current.next > Date.now() || current.nextRun === 'missing') return false;
  if (current.nextRun !== 'other') return true;
  return PENDING.has(await queue.getJobState(`repeat:${current.key}:${current.next}`));
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

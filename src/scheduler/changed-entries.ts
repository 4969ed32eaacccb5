import { schedulerKey } from '../core/index.ts';
import type { ScheduleSet } from './schedule-file.ts';

/**
 * What an edit of the schedule file changed: the ids of entries added, removed or changed (their
 * agent's profile included), and the scheduler keys they had or have (every ticker of either version).
 * A reload reconciles only these; the leader's tick still diffs everything every few seconds.
 */
export function changedEntries(before: ScheduleSet, after: ScheduleSet): { ids: Set<string>; keys: Set<string> } {
  const text = (set: ScheduleSet) => new Map(set.schedules.map((e) => [e.id, { entry: e, json: JSON.stringify(e) + JSON.stringify(set.agents[e.agent] ?? null) }]));
  const old = text(before);
  const now = text(after);
  const ids = new Set<string>();
  const keys = new Set<string>();
  for (const id of new Set([...old.keys(), ...now.keys()])) {
    const a = old.get(id);
    const b = now.get(id);
    if (a && b && a.json === b.json) continue;
    ids.add(id);
    for (const v of [a, b]) for (const ticker of v?.entry.tickers ?? []) keys.add(schedulerKey(id, ticker));
  }
  return { ids, keys };
}

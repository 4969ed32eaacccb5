import type { Queue } from 'bullmq';
import type { QueueName } from '../core/index.ts';
import type { DesiredScheduler } from './desired-schedulers.ts';

export interface ReconcileReport {
  added: string[];
  updated: string[];
  removed: string[];
  unchanged: number;
}

type Existing = Awaited<ReturnType<Queue['getJobSchedulers']>>[number];

/**
 * Makes Redis hold exactly the desired job schedulers, by diff: unchanged ones are not touched,
 * changed ones are upserted in place, and only ids that left the file are removed
 * (remove-then-re-add has left schedulers with nothing pending upstream).
 */
export async function reconcileSchedulers(
  queues: Record<QueueName, Queue>,
  desired: DesiredScheduler[],
): Promise<ReconcileReport> {
  const report: ReconcileReport = { added: [], updated: [], removed: [], unchanged: 0 };
  const existing = new Map<string, { queue: QueueName; scheduler: Existing }>();
  for (const [name, queue] of Object.entries(queues) as [QueueName, Queue][]) {
    for (const scheduler of await queue.getJobSchedulers(0, -1, true)) existing.set(`${name}\u0000${scheduler.key}`, { queue: name, scheduler });
  }
  const wanted = new Set(desired.map((d) => `${d.queue}\u0000${d.key}`));

  for (const d of desired) {
    const current = existing.get(`${d.queue}\u0000${d.key}`)?.scheduler;
    if (current && sameScheduler(current, d)) {
      report.unchanged++;
      continue;
    }
    await queues[d.queue].upsertJobScheduler(d.key, d.repeat, d.template);
    (current ? report.updated : report.added).push(d.key);
  }
  for (const [id, { queue, scheduler }] of existing) {
    if (wanted.has(id)) continue;
    await queues[queue].removeJobScheduler(scheduler.key);
    report.removed.push(scheduler.key);
  }
  return report;
}

function sameScheduler(current: Existing, d: DesiredScheduler): boolean {
  const r = d.repeat;
  return (
    (current.every ?? undefined) === r.every &&
    (current.pattern ?? undefined) === r.pattern &&
    (r.pattern ? (current.tz ?? undefined) === r.tz : true) &&
    (current.startDate ?? undefined) === r.startDate &&
    (current.endDate ?? undefined) === r.endDate &&
    stableJson(current.template?.data) === stableJson(d.template.data) &&
    stableJson(pickOpts(current.template?.opts)) === stableJson(pickOpts(d.template.opts))
  );
}

function pickOpts(opts: unknown): unknown {
  if (!opts || typeof opts !== 'object') return {};
  const { attempts, backoff, removeOnComplete, removeOnFail } = opts as Record<string, unknown>;
  return { attempts, backoff, removeOnComplete, removeOnFail };
}

/** JSON with sorted keys, so field order in Redis does not count as a change. */
export function stableJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)))
      : v,
  );
}

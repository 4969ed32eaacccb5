import type { Redis } from 'ioredis';
import { counterField, countersKey, counterWrite, parseCounterField, type CounterLabels } from './counters.ts';
import type { ProductKeys } from './keys.ts';
import type { RedisWrite } from './redis-write.ts';
import { sendWrites } from './redis-writes.ts';

/**
 * Cycle metrics kept in Redis rather than in one process's memory: every worker records its cycles
 * here once, so /metrics survives a dashboard restart and two dashboards report the same numbers.
 * Histograms are stored as one counter per bucket (not cumulative) and summed up at scrape time.
 */

export const DURATION_BUCKETS_S = [0.05, 0.1, 0.5, 1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800] as const;
export const LAG_BUCKETS_S = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300] as const;

export const HISTOGRAMS = {
  cycle_duration_seconds: { help: 'Time from a cycle start to its end, by final status', labels: ['queue', 'status'], buckets: DURATION_BUCKETS_S },
  schedule_lag_seconds: { help: 'Delay from a scheduled cycle due time to its start', labels: ['queue'], buckets: LAG_BUCKETS_S },
} as const;
export type HistogramName = keyof typeof HISTOGRAMS;

/** Throughput is counted per UTC minute (pages draw it in New York time), kept beyond a week's chart. */
const THROUGHPUT_RETAIN_S = 15 * 24 * 3600;
const MINUTE_MS = 60_000;

export type CycleFinalStatus = 'completed' | 'failed' | 'skipped' | 'cancelled';

export interface CycleMetricsRecord {
  queue: string;
  agent: string;
  schedule: string | null;
  ticker: string;
  /** Only runs fired by a schedule prove that the schedule works (manual runs do not count as its success). */
  trigger: string;
  status: CycleFinalStatus;
  /** When the last attempt started (BullMQ's processedOn); without it no duration or lag is observed. */
  startedAt?: number;
  endedAt: number;
  /** A scheduled run's due time. */
  dueAt?: number | null;
  /** What a completed cycle spent on LLM calls (as far as known). */
  costUsd?: number;
  /** Some of its calls' cost is not known: costUsd is only the known part. */
  costUnknown?: boolean;
}

export function histogramsKey(keys: ProductKeys): string {
  return keys.custom('histograms');
}
export function lastSuccessKey(keys: ProductKeys): string {
  return keys.custom('schedule-last-success');
}
function throughputKey(keys: ProductKeys, minuteMs: number): string {
  return keys.custom('throughput', new Date(minuteMs).toISOString().slice(0, 10));
}

function bucketOf(value: number, buckets: readonly number[]): string {
  const le = buckets.find((b) => value <= b);
  return le === undefined ? '+Inf' : String(le);
}

/** The writes of one histogram observation. */
function observe(out: RedisWrite[], keys: ProductKeys, name: HistogramName, labels: CounterLabels, value: number): void {
  const key = histogramsKey(keys);
  out.push(['HINCRBY', key, counterField(`${name}_bucket`, { ...labels, le: bucketOf(value, HISTOGRAMS[name].buckets) }), '1']);
  out.push(['HINCRBYFLOAT', key, counterField(`${name}_sum`, labels), String(value)]);
  out.push(['HINCRBY', key, counterField(`${name}_count`, labels), '1']);
}

/**
 * The writes that record one cycle's final outcome in the cross-process metrics: duration by status,
 * schedule lag, last success per schedule and ticker, cost per schedule and agent, and the per-minute
 * throughput the dashboard charts. Sent once per job (the run recorder's marker sees to it).
 */
export function cycleMetricsWrites(keys: ProductKeys, m: CycleMetricsRecord): RedisWrite[] {
  const out: RedisWrite[] = [];
  if (m.startedAt) {
    observe(out, keys, 'cycle_duration_seconds', { queue: m.queue, status: m.status }, Math.max(0, m.endedAt - m.startedAt) / 1000);
    if (m.trigger === 'schedule' && m.dueAt) observe(out, keys, 'schedule_lag_seconds', { queue: m.queue }, Math.max(0, m.startedAt - m.dueAt) / 1000);
  }
  if (m.status === 'completed' && m.schedule && m.trigger === 'schedule') {
    // GT: a run finishing after a later one never moves the time back.
    out.push(['ZADD', lastSuccessKey(keys), 'GT', String(Math.floor(m.endedAt / 1000)), `${m.schedule}|${m.ticker}`]);
  }
  if (m.status === 'completed' && m.costUsd && m.costUsd > 0) {
    out.push(['HINCRBYFLOAT', countersKey(keys), counterField('cycle_cost_usd_total', { schedule: m.schedule ?? '(none)', agent: m.agent }), String(m.costUsd)]);
  }
  if (m.status === 'completed' && m.costUnknown) {
    out.push(counterWrite(keys, 'cycles_cost_unknown_total', { schedule: m.schedule ?? '(none)', agent: m.agent }));
  }
  const minute = Math.floor(m.endedAt / MINUTE_MS) * MINUTE_MS;
  const tkey = throughputKey(keys, minute);
  out.push(['HINCRBY', tkey, `${minute / MINUTE_MS}:${m.status}`, '1']);
  out.push(['EXPIRE', tkey, String(THROUGHPUT_RETAIN_S)]);
  return out;
}

/** Records one cycle's final outcome in the metrics, in one round trip (see cycleMetricsWrites). */
export async function recordCycleMetrics(redis: Redis, keys: ProductKeys, m: CycleMetricsRecord): Promise<void> {
  await sendWrites(redis, cycleMetricsWrites(keys, m));
}

export interface HistogramSeries {
  name: HistogramName;
  labels: CounterLabels;
  /** Cumulative counts per upper bound, ending with +Inf. */
  buckets: Array<{ le: string; count: number }>;
  sum: number;
  count: number;
}

/** Every stored histogram series, with cumulative buckets as Prometheus expects them. */
export async function readHistograms(redis: Redis, keys: ProductKeys): Promise<HistogramSeries[]> {
  const all = await redis.hgetall(histogramsKey(keys));
  const series = new Map<string, HistogramSeries>();
  const seriesOf = (name: HistogramName, labels: CounterLabels) => {
    const id = counterField(name, labels);
    let s = series.get(id);
    if (!s) {
      s = { name, labels, buckets: [...HISTOGRAMS[name].buckets.map(String), '+Inf'].map((le) => ({ le, count: 0 })), sum: 0, count: 0 };
      series.set(id, s);
    }
    return s;
  };
  for (const [field, raw] of Object.entries(all)) {
    const { name: full, labels } = parseCounterField(field);
    const m = /^(.+)_(bucket|sum|count)$/.exec(full);
    if (!m || !(m[1]! in HISTOGRAMS)) continue;
    const name = m[1] as HistogramName;
    const value = Number(raw);
    if (m[2] === 'bucket') {
      const { le, ...rest } = labels;
      const s = seriesOf(name, rest);
      for (const b of s.buckets) if (le === '+Inf' ? b.le === '+Inf' : b.le === '+Inf' || Number(b.le) >= Number(le)) b.count += value;
    } else if (m[2] === 'sum') seriesOf(name, labels).sum += value;
    else seriesOf(name, labels).count += value;
  }
  return [...series.values()];
}

/** Last successful scheduled run per schedule and ticker, as Unix seconds. */
export async function readLastSuccess(redis: Redis, keys: ProductKeys): Promise<Array<{ schedule: string; ticker: string; at_s: number }>> {
  const raw = await redis.zrange(lastSuccessKey(keys), '0', '-1', 'WITHSCORES');
  const out: Array<{ schedule: string; ticker: string; at_s: number }> = [];
  for (let i = 0; i < raw.length; i += 2) {
    const member = raw[i]!;
    const cut = member.lastIndexOf('|');
    out.push({ schedule: member.slice(0, cut), ticker: member.slice(cut + 1), at_s: Number(raw[i + 1]) });
  }
  return out;
}

export interface ThroughputBucket {
  /** Bucket start, Unix seconds. */
  t: number;
  completed: number;
  failed: number;
  skipped: number;
  cancelled: number;
}

/** Cycles finished per bucket over [fromMs, toMs), from the per-minute counters every worker writes. */
export async function readThroughput(redis: Redis, keys: ProductKeys, fromMs: number, toMs: number, bucketMs: number): Promise<ThroughputBucket[]> {
  const start = Math.floor(fromMs / bucketMs) * bucketMs;
  const buckets: ThroughputBucket[] = [];
  for (let t = start; t < toMs; t += bucketMs) buckets.push({ t: t / 1000, completed: 0, failed: 0, skipped: 0, cancelled: 0 });
  const days: string[] = [];
  for (let d = Date.parse(new Date(start).toISOString().slice(0, 10)); d < toMs; d += 86_400_000) days.push(throughputKey(keys, d));
  const hashes = await Promise.all(days.map((k) => redis.hgetall(k)));
  for (const h of hashes) {
    for (const [field, raw] of Object.entries(h)) {
      const [minute, status] = field.split(':') as [string, keyof Omit<ThroughputBucket, 't'>];
      const ms = Number(minute) * MINUTE_MS;
      if (ms < start || ms >= toMs) continue;
      const b = buckets[Math.floor((ms - start) / bucketMs)];
      if (b && status in b) b[status] += Number(raw);
    }
  }
  return buckets;
}

import type { Redis } from 'ioredis';
import { DateTime } from 'luxon';
import type { ProductKeys } from './keys.ts';
import type { RedisWrite } from './redis-write.ts';
import { sendWrites } from './redis-writes.ts';

/**
 * Each schedule's finished runs, written once per job when its outcome is recorded: a capped list of
 * recent runs (what the timeline and `schedules show` read) and tallies by outcome — per New York day
 * of the run's due time and for all time.
 */
export interface ScheduleRun {
  job_id: string;
  ticker: string;
  trigger: string;
  status: 'completed' | 'skipped' | 'failed' | 'cancelled';
  reason?: string;
  decision?: string;
  /** When the run was due (a scheduled run's slot) or asked for, epoch ms. */
  due_at: number;
  finished_at: string;
}

export interface ScheduleTally {
  ran: number;
  failed: number;
  cancelled: number;
  skipped: Record<string, number>;
}

const MAX_RUNS = 2_000;
const DAY_TTL_S = 40 * 24 * 3600;

const runsKey = (keys: ProductKeys, scheduleId: string) => keys.custom('schedule-runs', scheduleId);
const tallyKey = (keys: ProductKeys, scheduleId: string, day: string) => keys.custom('schedule-tally', scheduleId, day);

function nyDay(ms: number): string {
  return DateTime.fromMillis(ms, { zone: 'America/New_York' }).toISODate()!;
}

function tallyField(run: Pick<ScheduleRun, 'status' | 'reason'>): string {
  if (run.status === 'completed') return 'ran';
  if (run.status === 'skipped') return `skipped:${run.reason ?? 'unknown'}`;
  return run.status;
}

/** The writes that record one finished run of a schedule (its recent-runs list and its tallies). */
export function scheduleRunWrites(keys: ProductKeys, scheduleId: string, run: ScheduleRun): RedisWrite[] {
  const day = tallyKey(keys, scheduleId, nyDay(run.due_at));
  const field = tallyField(run);
  const runs = runsKey(keys, scheduleId);
  return [
    ['LPUSH', runs, JSON.stringify(run)],
    ['LTRIM', runs, '0', String(MAX_RUNS - 1)],
    ['HINCRBY', tallyKey(keys, scheduleId, 'all'), field, '1'],
    ['HINCRBY', day, field, '1'],
    ['EXPIRE', day, String(DAY_TTL_S)],
  ];
}

export async function recordScheduleRun(redis: Redis, keys: ProductKeys, scheduleId: string, run: ScheduleRun): Promise<void> {
  await sendWrites(redis, scheduleRunWrites(keys, scheduleId, run));
}

/** Newest first. */
export async function readScheduleRuns(redis: Redis, keys: ProductKeys, scheduleId: string, limit = MAX_RUNS): Promise<ScheduleRun[]> {
  return (await redis.lrange(runsKey(keys, scheduleId), 0, limit - 1)).map((raw) => JSON.parse(raw) as ScheduleRun);
}

/** Tallies for a New York date (YYYY-MM-DD) or `all`. */
export async function readScheduleTally(redis: Redis, keys: ProductKeys, scheduleId: string, day: string | 'all'): Promise<ScheduleTally> {
  const raw = await redis.hgetall(tallyKey(keys, scheduleId, day));
  const tally: ScheduleTally = { ran: 0, failed: 0, cancelled: 0, skipped: {} };
  for (const [field, value] of Object.entries(raw)) {
    const n = Number(value);
    if (field.startsWith('skipped:')) tally.skipped[field.slice(8)] = n;
    else if (field === 'ran' || field === 'failed' || field === 'cancelled') tally[field] = n;
  }
  return tally;
}

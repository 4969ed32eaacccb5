import type { Redis } from 'ioredis';
import { productKeys } from '../../core/index.ts';
import type { ScoredDecision } from '../scorecard/decision-log.ts';

/** What a desk learned from one scored decision (one lesson per decision, by its job id), kept per agent and ticker. */
export interface Lesson extends Pick<ScoredDecision, 'job_id' | 'agent' | 'ticker' | 'date' | 'decision' | 'rating'> {
  return_5d: number;
  /** The session whose close made the 5-session return known: a cycle sees the lesson from then on. */
  known_on: string;
  lesson: string;
  model: string;
  written_at: string;
}

/** Lessons kept per agent, newest last; older ones are dropped beyond this. */
const MAX_LESSONS = 500;

export function lessonKeys(prefix: string) {
  const k = productKeys(prefix);
  return {
    /** Hash job id → Lesson JSON. */
    entries: (agent: string) => k.custom('lessons', agent),
    /** Sorted set of job ids by the time the outcome became known. */
    byTime: (agent: string) => k.custom('lessons', agent, 'by-time'),
  };
}

/** Writes a lesson once per decision (a second reflection on the same decision is ignored). */
export async function writeLesson(redis: Redis, prefix: string, lesson: Lesson): Promise<boolean> {
  const k = lessonKeys(prefix);
  if ((await redis.hsetnx(k.entries(lesson.agent), lesson.job_id, JSON.stringify(lesson))) !== 1) return false;
  await redis.zadd(k.byTime(lesson.agent), String(Date.parse(`${lesson.known_on}T00:00:00Z`)), lesson.job_id);
  const extra = (await redis.zcard(k.byTime(lesson.agent))) - MAX_LESSONS;
  if (extra > 0) {
    const old = await redis.zrange(k.byTime(lesson.agent), '0', String(extra - 1));
    await redis.multi().zrem(k.byTime(lesson.agent), ...old).hdel(k.entries(lesson.agent), ...old).exec();
  }
  return true;
}

export async function hasLesson(redis: Redis, prefix: string, agent: string, jobIds: string[]): Promise<boolean[]> {
  if (jobIds.length === 0) return [];
  const raws = await redis.hmget(lessonKeys(prefix).entries(agent), ...jobIds);
  return raws.map((r) => r !== null);
}

/**
 * The agent's lessons, newest outcome first; `knownBy` keeps only those whose outcome was known by that
 * date (a backdated cycle never learns from the future); `ticker` keeps one ticker's.
 */
export async function listLessons(redis: Redis, prefix: string, agent: string, opts: { ticker?: string; knownBy?: string; limit?: number } = {}): Promise<Lesson[]> {
  const k = lessonKeys(prefix);
  const ids = await redis.zrevrange(k.byTime(agent), 0, MAX_LESSONS - 1);
  if (ids.length === 0) return [];
  const raws = await redis.hmget(k.entries(agent), ...ids);
  const lessons = raws.filter((r): r is string => r !== null).map((r) => JSON.parse(r) as Lesson);
  return lessons
    .filter((l) => (!opts.ticker || l.ticker === opts.ticker) && (!opts.knownBy || l.known_on <= opts.knownBy))
    .sort((a, b) => b.known_on.localeCompare(a.known_on) || b.date.localeCompare(a.date))
    .slice(0, opts.limit ?? 50);
}

/** The portfolio manager's memory: the latest lessons for this ticker and a few from the others. */
export async function lessonsForDecision(redis: Redis, prefix: string, agent: string, ticker: string, date: string, counts: { same: number; others: number }): Promise<{ same: Lesson[]; others: Lesson[] }> {
  const all = await listLessons(redis, prefix, agent, { knownBy: date, limit: MAX_LESSONS });
  return {
    same: all.filter((l) => l.ticker === ticker).slice(0, counts.same),
    others: all.filter((l) => l.ticker !== ticker).slice(0, counts.others),
  };
}

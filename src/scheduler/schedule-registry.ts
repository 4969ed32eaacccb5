import type { Redis } from 'ioredis';
import type { AgentProfile, ProductKeys, ScheduleEntry } from '../core/index.ts';
import type { ScheduleSet } from './schedule-file.ts';
import { sourceRecord } from './schedule-source.ts';

export interface ScheduleLoadStatus {
  file: string;
  ok: boolean;
  loaded_at: string;
  schedules: number;
  /** Content hash of the published schedule file. */
  hash?: string;
  error?: string;
}

/**
 * Publishes the loaded schedule set to Redis so the API and dashboard read what the scheduler
 * actually runs (data flows one way: file → scheduler → Redis → dashboard).
 */
export async function publishScheduleSet(redis: Redis, keys: ProductKeys, set: ScheduleSet, loadedAt: Date, by?: { host: string; scheduler: string }): Promise<void> {
  const multi = redis.multi().del(keys.schedules, keys.agents);
  if (by) multi.set(...sourceRecord(keys, { hash: set.hash, text: set.text, file: set.file, ...by, published_at: loadedAt.toISOString() }));
  for (const entry of set.schedules) multi.hset(keys.schedules, entry.id, JSON.stringify(entry));
  for (const [name, profile] of Object.entries(set.agents)) multi.hset(keys.agents, name, JSON.stringify(profile));
  const status: ScheduleLoadStatus = { file: set.file, ok: true, loaded_at: loadedAt.toISOString(), schedules: set.schedules.length, hash: set.hash };
  multi.set(keys.scheduleStatus, JSON.stringify(status));
  await multi.exec();
}

/** Records a failed load without touching the published (last good) schedule. */
export async function publishLoadFailure(redis: Redis, keys: ProductKeys, file: string, error: string, at: Date): Promise<void> {
  const previous = await readLoadStatus(redis, keys);
  const status: ScheduleLoadStatus = {
    file,
    ok: false,
    loaded_at: previous?.loaded_at ?? at.toISOString(),
    schedules: previous?.schedules ?? 0,
    ...(previous?.hash ? { hash: previous.hash } : {}),
    error,
  };
  await redis.set(keys.scheduleStatus, JSON.stringify(status));
}

export async function readLoadStatus(redis: Redis, keys: ProductKeys): Promise<ScheduleLoadStatus | null> {
  const raw = await redis.get(keys.scheduleStatus);
  return raw ? (JSON.parse(raw) as ScheduleLoadStatus) : null;
}

export async function readPublishedSchedules(redis: Redis, keys: ProductKeys): Promise<ScheduleEntry[]> {
  const all = await redis.hgetall(keys.schedules);
  return Object.values(all)
    .map((v) => JSON.parse(v) as ScheduleEntry)
    .sort((a, b) => a.id.localeCompare(b.id));
}

/** One published agent, or null: a job request reads the profile it names, not every one. */
export async function readPublishedAgent(redis: Redis, keys: ProductKeys, name: string): Promise<AgentProfile | null> {
  const raw = await redis.hget(keys.agents, name);
  return raw === null ? null : (JSON.parse(raw) as AgentProfile);
}

/** The names of the published agents (for an error that lists them). */
export async function readPublishedAgentNames(redis: Redis, keys: ProductKeys): Promise<string[]> {
  return redis.hkeys(keys.agents);
}

export async function readPublishedAgents(redis: Redis, keys: ProductKeys): Promise<Record<string, AgentProfile>> {
  const all = await redis.hgetall(keys.agents);
  return Object.fromEntries(Object.entries(all).map(([k, v]) => [k, JSON.parse(v) as AgentProfile]));
}

export async function readPausedIds(redis: Redis, keys: ProductKeys): Promise<Set<string>> {
  return new Set(await redis.smembers(keys.paused));
}

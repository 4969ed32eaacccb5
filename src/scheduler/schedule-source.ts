import type { Redis } from 'ioredis';
import type { ProductKeys } from '../core/index.ts';

/**
 * One schedule source for all schedulers: the leader publishes the text and content hash of the file
 * it runs. Schedulers whose own file has another hash say so here (and in /readyz, `tradeloop
 * schedules`) instead of overwriting what runs.
 */
export interface PublishedSource {
  hash: string;
  text: string;
  file: string;
  host: string;
  scheduler: string;
  published_at: string;
}

/** One scheduler's view, refreshed every tick: doubles as its heartbeat. */
export interface SchedulerPresence {
  scheduler: string;
  host: string;
  file: string;
  /** Hash of this scheduler's own file (null: it has no valid file). */
  local_hash: string | null;
  /** Hash of the schedule it runs or would take over with. */
  running_hash: string | null;
  published_hash: string | null;
  leader: boolean;
  at: string;
}

export interface SourceConflict extends SchedulerPresence {
  message: string;
}

const sourceKey = (keys: ProductKeys) => keys.custom('schedule-source');
const presenceKey = (keys: ProductKeys) => keys.custom('schedulers');

export const shortHash = (hash: string | null) => (hash ? hash.slice(0, 12) : 'none');

export async function readPublishedSource(redis: Redis, keys: ProductKeys): Promise<PublishedSource | null> {
  const raw = await redis.get(sourceKey(keys));
  return raw ? (JSON.parse(raw) as PublishedSource) : null;
}

/** The key and value to write (inside the publishing MULTI, so schedules and their source never disagree). */
export function sourceRecord(keys: ProductKeys, source: PublishedSource): [string, string] {
  return [sourceKey(keys), JSON.stringify(source)];
}

export async function writePresence(redis: Redis, keys: ProductKeys, p: SchedulerPresence): Promise<void> {
  await redis.hset(presenceKey(keys), p.scheduler, JSON.stringify(p));
}

export async function removePresence(redis: Redis, keys: ProductKeys, scheduler: string): Promise<void> {
  await redis.hdel(presenceKey(keys), scheduler);
}

/** Schedulers seen within `maxAgeMs`; older entries (a crashed process) are pruned. */
export async function readPresence(redis: Redis, keys: ProductKeys, now: Date, maxAgeMs = 30_000): Promise<SchedulerPresence[]> {
  const all = Object.entries(await redis.hgetall(presenceKey(keys))).map(([id, v]) => [id, JSON.parse(v) as SchedulerPresence] as const);
  const stale = all.filter(([, p]) => now.getTime() - Date.parse(p.at) > maxAgeMs).map(([id]) => id);
  if (stale.length) await redis.hdel(presenceKey(keys), ...stale);
  return all.filter(([id]) => !stale.includes(id)).map(([, p]) => p).sort((a, b) => a.scheduler.localeCompare(b.scheduler));
}

export function conflictMessage(p: Pick<SchedulerPresence, 'host' | 'file' | 'local_hash' | 'published_hash' | 'leader'>): string {
  const role = p.leader ? 'leads but runs the published schedule' : 'would take over with the published schedule';
  return `schedule file ${p.file} on ${p.host} has hash ${shortHash(p.local_hash)}, the published schedule has ${shortHash(p.published_hash)}: this scheduler ${role}, not its own file (see tradeloop schedules diff)`;
}

/** Live schedulers whose own file is not the published one. */
export async function readSourceConflicts(redis: Redis, keys: ProductKeys, now: Date): Promise<SourceConflict[]> {
  return (await readPresence(redis, keys, now))
    .filter((p) => p.published_hash !== null && p.local_hash !== null && p.local_hash !== p.published_hash)
    .map((p) => ({ ...p, message: conflictMessage(p) }));
}

import type { Redis } from 'ioredis';
import type { ProductKeys } from '../core/index.ts';

/** What a worker tells the world every heartbeat (the `celery inspect` data). */
export interface WorkerHeartbeat {
  id: string;
  host: string;
  pid: number;
  version: string;
  queues: string[];
  concurrency: number;
  sandbox: boolean;
  sandbox_pids: number[];
  active: Array<{ job_id: string; queue: string; ticker: string; agent: string; started_at: string }>;
  processed: number;
  failed: number;
  started_at: string;
  last_heartbeat: string;
  heartbeat_ms: number;
  rss_bytes: number;
}

export interface WorkerView extends WorkerHeartbeat {
  online: boolean;
}

/** A worker silent for three heartbeats is offline; after an hour it is forgotten. */
export async function readWorkers(redis: Redis, keys: ProductKeys, now = Date.now()): Promise<WorkerView[]> {
  const all = await redis.hgetall(keys.workers);
  const out: WorkerView[] = [];
  for (const [id, raw] of Object.entries(all)) {
    const hb = JSON.parse(raw) as WorkerHeartbeat;
    const age = now - Date.parse(hb.last_heartbeat);
    if (age > 3_600_000) {
      await redis.hdel(keys.workers, id);
      continue;
    }
    out.push({ ...hb, online: age <= 3 * hb.heartbeat_ms });
  }
  return out.sort((a, b) => Number(b.online) - Number(a.online) || a.id.localeCompare(b.id));
}

export async function writeHeartbeat(redis: Redis, keys: ProductKeys, hb: WorkerHeartbeat): Promise<void> {
  await redis.hset(keys.workers, hb.id, JSON.stringify(hb));
}

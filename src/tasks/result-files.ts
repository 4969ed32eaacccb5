import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import type { CycleResult, Logger, ProductKeys } from '../core/index.ts';
import { warmFileWriteThread, writeJsonAtomically } from './file-write-thread.ts';

/** Hash job id → {"at", "result"}: completed jobs whose result file is not written yet (see OnceWrites.keepResult). */
export const pendingResultFilesKey = (keys: ProductKeys) => keys.custom('result-files-pending');

let tmpSeq = 0;

/**
 * Writes `<dir>/<TICKER>/<YYYY-MM-DD>/<job_id>.json` atomically (temp file + rename), so a retried
 * or recovered cycle overwrites its own file instead of leaving two results. The writing itself
 * happens on the process's file-write thread, off the event loop.
 */
export async function writeResultFile(dir: string, jobId: string, result: CycleResult, json = JSON.stringify(result)): Promise<string> {
  const folder = join(dir, safeSegment(result.ticker), safeSegment(result.date));
  const path = join(folder, `${safeSegment(jobId)}.json`);
  const tmp = `${path}.${process.pid}.${++tmpSeq}.tmp`;
  await writeJsonAtomically(folder, path, tmp, json, { job_id: jobId });
  return path;
}

function safeSegment(s: string): string {
  return s.replace(/[^A-Za-z0-9._-]/g, '_');
}

export interface ResultFileWriter {
  /**
   * Queues a job's result file; resolves at once unless the queue is full (then once there is room).
   * `json`, the result's JSON when the caller has it already, saves making it again.
   */
  write(jobId: string, result: CycleResult, json?: string): Promise<void>;
  /** Waits until every queued file is written or given up (shutdown), at most `timeoutMs`. */
  flush(timeoutMs?: number): Promise<void>;
  pending(): number;
}

export interface ResultFileWriterOptions {
  dir: string;
  logger: Logger;
  /** Files waiting at most; a job finishing beyond that waits for room (back-pressure, never a loss). */
  capacity?: number;
  /** How long one file is retried (a full disk, a folder that cannot be made) before it is logged and dropped. */
  retryMs?: number;
  /** Where a completed job's result waits for its file: entries are removed once written. */
  pending?: { redis: Redis; keys: ProductKeys };
}

/**
 * Result files are written after the job completes, off its critical path: Redis holds the record the
 * API serves (stored analysis, job return value); the file follows it. One writer per worker process,
 * a bounded queue, a later write of the same job id replacing a queued one, retries with capped
 * backoff; a failed write is logged and never fails the job. The worker flushes it at shutdown.
 */
export function createResultFileWriter(opts: ResultFileWriterOptions): ResultFileWriter {
  warmFileWriteThread();
  const capacity = opts.capacity ?? 1_000;
  const retryMs = opts.retryMs ?? 60_000;
  const queued = new Map<string, { result: CycleResult; json?: string }>();
  const room: Array<() => void> = [];
  const idle: Array<() => void> = [];
  // Writes in flight at once: the file-write thread takes those asked for together in one message.
  const PARALLEL = 64;
  let running = 0;

  // Written files leave the pending hash in batches: one HDEL per burst, not one per file.
  let filed: string[] = [];
  let unfiling: Promise<void> | null = null;
  const unfile = (jobId: string) => {
    if (!opts.pending) return;
    filed.push(jobId);
    unfiling ??= new Promise<void>((r) => setTimeout(r, 20)).then(async () => {
      const ids = filed;
      filed = [];
      unfiling = null;
      await opts.pending!.redis.hdel(pendingResultFilesKey(opts.pending!.keys), ...ids).catch(() => undefined);
    });
  };

  const writeOne = async (jobId: string, { result, json }: { result: CycleResult; json?: string }) => {
    const deadline = Date.now() + retryMs;
    let delay = 100;
    for (let tries = 1; ; tries++) {
      try {
        await writeResultFile(opts.dir, jobId, result, json);
        unfile(jobId);
        return;
      } catch (err) {
        if (Date.now() >= deadline) {
          opts.logger.error({ jobId, err: (err as Error).message, tries }, 'result file not written; the result stays in Redis (GET /api/jobs/:id/result)');
          unfile(jobId);
          return;
        }
        if (tries === 1) opts.logger.warn({ jobId, err: (err as Error).message }, 'result file not written yet; retrying');
        await sleep(Math.min(delay, Math.max(0, deadline - Date.now())));
        delay = Math.min(delay * 2, 2_000);
      }
    }
  };

  const drain = async () => {
    running++;
    while (queued.size) {
      const [jobId, entry] = queued.entries().next().value!;
      queued.delete(jobId);
      room.shift()?.();
      await writeOne(jobId, entry);
    }
    if (--running === 0) idle.splice(0).forEach((r) => r());
  };

  return {
    async write(jobId, result, json) {
      while (queued.size >= capacity && !queued.has(jobId)) await new Promise<void>((r) => room.push(r));
      queued.delete(jobId); // re-queued at the back with the newest result
      queued.set(jobId, json === undefined ? { result } : { result, json });
      if (running < PARALLEL) void drain();
    },
    async flush(timeoutMs = 30_000) {
      if (!running && !queued.size) return void (await unfiling);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([new Promise<void>((r) => idle.push(r)), new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)))]);
      clearTimeout(timer);
      await unfiling;
      if (queued.size || running) opts.logger.warn({ pending: queued.size }, 'result files still queued at shutdown; their results stay in Redis');
    },
    pending: () => queued.size + running,
  };
}

/**
 * Queues the files of completed jobs still waiting in the pending hash (their worker was killed before
 * writing them), at least `minAgeMs` old: a live worker's own writes are younger. Writing a file twice
 * is harmless (same content, atomic rename).
 */
export async function recoverResultFiles(redis: Redis, keys: ProductKeys, writer: ResultFileWriter, minAgeMs: number, now = Date.now()): Promise<number> {
  let cursor = '0';
  let queued = 0;
  do {
    const [next, flat] = await redis.hscan(pendingResultFilesKey(keys), cursor, 'COUNT', 200);
    cursor = next;
    for (let i = 0; i < flat.length; i += 2) {
      const entry = JSON.parse(flat[i + 1]!) as { at: number; result: CycleResult };
      if (entry.at > now - minAgeMs) continue;
      await writer.write(flat[i]!, entry.result);
      queued++;
    }
  } while (cursor !== '0');
  return queued;
}

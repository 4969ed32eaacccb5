import type pg from 'pg';
import type { Logger } from '../core/index.ts';
import { createHistoryPool, describeDatabase, type HistoryConfig } from './history-db.ts';
import { listCycles, listReplayViews, readCycle, readReplayReport, readScoredDecisions, type HistoryCycle, type HistoryJobView, type HistoryQuery, type HistoryScoredDecision } from './history-reads.ts';
import { migrateHistory } from './migrate.ts';
import type { HistoryRecord } from './history-record.ts';
import { writeRecords } from './history-writes.ts';
import { startHistoryWriter, type HistoryWriter, type HistoryWriterOptions } from './history-writer.ts';

/** The durable history of one process: reads, and (for workers) the writer draining the outbox. */
export interface HistoryStore {
  readonly pool: pg.Pool;
  readonly where: string;
  /** Resolves once migrations are applied; a failure is retried on the next call. */
  ready(): Promise<void>;
  cycle(jobId: string): Promise<HistoryCycle | null>;
  cycles(q: HistoryQuery): Promise<{ jobs: HistoryJobView[]; next_cursor: string | null }>;
  scoredDecisions(agent: string): Promise<HistoryScoredDecision[]>;
  replayReport(replayId: string): Promise<{ replay_id: string; status: string; finished_at: string | null; report: unknown } | null>;
  /** Finished replays' views (as `GET /api/replays/:id` showed them), newest finished first. */
  replayViews(limit: number): Promise<unknown[]>;
  /** PostgreSQL answering and migrated, within a short deadline. */
  check(timeoutMs?: number): Promise<{ ok: true } | { ok: false; error: string }>;
  startWriter(opts: Pick<HistoryWriterOptions, 'redis' | 'keys'> & Partial<HistoryWriterOptions>): HistoryWriter;
  /** Adds records whose id has no row yet (a back-fill never replaces what a worker wrote); returns how many. */
  addMissing(records: HistoryRecord[]): Promise<number>;
  close(): Promise<void>;
}

function deadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms)))]).finally(() => clearTimeout(timer));
}

/**
 * Opens the history when DATABASE_URL is set (null otherwise: nothing touches PostgreSQL). Migrations
 * start at once, in the background: a PostgreSQL that is down delays history, never the process.
 */
export function openHistory(config: HistoryConfig, logger: Logger): HistoryStore | null {
  if (!config.DATABASE_URL) return null;
  const pool = createHistoryPool(config);
  const where = describeDatabase(config);
  let migrated: Promise<void> | null = null;
  const writers: HistoryWriter[] = [];
  const ready = () => {
    migrated ??= migrateHistory(config, logger).then(
      () => undefined,
      (err: unknown) => {
        migrated = null;
        throw err;
      },
    );
    return migrated;
  };
  ready().catch((err: unknown) => logger.warn({ err: (err as Error).message, database: where }, 'history database not reachable yet: migrations will be retried'));
  const read = async <T>(fn: () => Promise<T>) => {
    await ready();
    return fn();
  };
  return {
    pool,
    where,
    ready,
    cycle: (jobId) => read(() => readCycle(pool, jobId)),
    cycles: (q) => read(() => listCycles(pool, q)),
    scoredDecisions: (agent) => read(() => readScoredDecisions(pool, agent)),
    replayReport: (id) => read(() => readReplayReport(pool, id)),
    replayViews: (limit) => read(() => listReplayViews(pool, limit)),
    async check(timeoutMs = 2_000) {
      try {
        await deadline(ready().then(() => pool.query('SELECT 1')), timeoutMs, 'PostgreSQL');
        return { ok: true };
      } catch (err) {
        return { ok: false, error: (err as Error).message };
      }
    },
    addMissing: (records) => read(() => writeRecords(pool, records, 'keep')),
    startWriter(opts) {
      const writer = startHistoryWriter({ pool, logger, ready, ...opts });
      writers.push(writer);
      return writer;
    },
    async close() {
      await Promise.all(writers.map((w) => w.stop()));
      await pool.end().catch(() => undefined);
    },
  };
}


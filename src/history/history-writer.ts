import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import { incrementCounter, type ApprovalView, type Logger, type ProductKeys } from '../core/index.ts';
import type { HistoryRecord } from './history-record.ts';
import { outboxKey } from './outbox.ts';
import { writeApprovals, writeForwardReturns, writeRecords } from './history-writes.ts';
import { readUnscored, readUnsettled } from './history-reads.ts';
import { pruneHistory } from './history-retention.ts';

export interface HistoryWriterOptions {
  redis: Redis;
  keys: ProductKeys;
  pool: pg.Pool;
  logger: Logger;
  /** Resolves once the schema is migrated; a rejection is retried by the writer. */
  ready: () => Promise<void>;
  /** Records per transaction. */
  batch?: number;
  /** Pause between polls of an empty outbox. */
  idleMs?: number;
  /** Longest pause between retries while PostgreSQL refuses writes. */
  maxBackoffMs?: number;
  /** Forward returns known elsewhere (the Redis scorecard), copied onto cycles now and then. */
  forwardReturns?: (decisions: Array<{ job_id: string; agent: string }>) => Promise<Array<{ job_id: string; return_1d: number | null; return_5d: number | null }>>;
  /** How held decisions were settled (the Redis approval records), copied onto cycles now and then. */
  approvals?: (jobIds: string[]) => Promise<ApprovalView[]>;
  /** How often forward returns and approvals are copied (1 minute). */
  refreshEveryMs?: number;
  /** Cycles and replay reports older than this many days are deleted (HISTORY_RETENTION_DAYS); 0 or absent: kept for ever. */
  retentionDays?: number;
  /** How often the retention pass runs (1 hour; the first pass runs with the first refresh). */
  pruneEveryMs?: number;
}

export interface HistoryWriter {
  /** Drains what is in the outbox now (tests, shutdown); returns how many records were committed. */
  drain(): Promise<number>;
  stop(): Promise<void>;
  /** Consecutive failed attempts (0 when the last write succeeded). */
  readonly failures: number;
}

/** SQLSTATE classes 22 (data exception) and 23 (integrity violation): the record, not the database, is at fault. */
function isRefusedData(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && /^2[23][0-9A-Z]{3}$/.test(code);
}

/** A cycle with its job id, or a replay with its id; anything else cannot be written. */
function parseRecord(raw: string): HistoryRecord | null {
  try {
    const r = JSON.parse(raw) as Partial<Record<string, unknown>> | null;
    if (r?.kind === 'cycle' && typeof (r.job as { id?: unknown } | undefined)?.id === 'string') return r as unknown as HistoryRecord;
    if (r?.kind === 'replay' && typeof r.replay_id === 'string') return r as unknown as HistoryRecord;
  } catch {
    // not JSON
  }
  return null;
}

const recordId = (r: HistoryRecord) => (r.kind === 'cycle' ? r.job?.id : r.replay_id);

/** One drainer at a time across processes; correctness does not depend on it (writes are upserts). */
const LEASE_MS = 30_000;

/**
 * Drains the Redis outbox into PostgreSQL. A record leaves the outbox only after its transaction has
 * committed, so PostgreSQL being down or slow costs nothing but delay: the records wait in Redis, the
 * writer retries with capped backoff and reconnects through the pool. Cycles never wait for it.
 */
export function startHistoryWriter(opts: HistoryWriterOptions): HistoryWriter {
  const { redis, keys, pool, logger } = opts;
  const batch = opts.batch ?? 100;
  const idleMs = opts.idleMs ?? 500;
  const maxBackoffMs = opts.maxBackoffMs ?? 30_000;
  const refreshEveryMs = opts.refreshEveryMs ?? 60_000;
  const id = randomBytes(6).toString('hex');
  const leaseKey = keys.custom('history', 'writer-lease');
  const deadKey = keys.custom('history', 'dead');
  let failures = 0;
  let stopped = false;
  let wake: (() => void) | null = null;
  let lastRefresh = 0;
  let lastPrune = 0;

  const holdLease = async () => {
    if ((await redis.set(leaseKey, id, 'PX', LEASE_MS, 'NX')) === 'OK') return true;
    if ((await redis.get(leaseKey)) !== id) return false;
    await redis.pexpire(leaseKey, LEASE_MS);
    return true;
  };

  const releaseLease = () => redis.eval("if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0", 1, leaseKey, id).catch(() => undefined);

  /**
   * Commits the batch in one transaction. Should PostgreSQL refuse the data itself (a record it can
   * never take), the records are written one by one and that record alone is set aside, so it cannot
   * hold back the outbox; any other failure (connection, timeout) is retried whole.
   */
  const writeBatch = async (records: HistoryRecord[], raws: string[]): Promise<number> => {
    try {
      await writeRecords(pool, records);
      return records.length;
    } catch (err) {
      if (!isRefusedData(err)) throw err;
      let written = 0;
      for (let i = 0; i < records.length; i++) {
        try {
          await writeRecords(pool, [records[i]!]);
          written++;
        } catch (one) {
          if (!isRefusedData(one)) throw one;
          await setAside(raws[i]!);
          logger.error({ err: (one as Error).message, record: recordId(records[i]!) }, 'PostgreSQL refused a history record: moved to the dead list');
        }
      }
      return written;
    }
  };

  const setAside = async (raw: string) => {
    await redis.multi().rpush(deadKey, raw).lrem(outboxKey(keys), 1, raw).exec();
  };

  /** One batch: read the head of the outbox, commit it, then remove exactly what was committed. */
  const drainBatch = async (): Promise<number> => {
    const raws = await redis.lrange(outboxKey(keys), 0, batch - 1);
    if (!raws.length) return 0;
    await opts.ready();
    const records: HistoryRecord[] = [];
    const good: string[] = [];
    for (const raw of raws) {
      const record = parseRecord(raw);
      if (record) {
        records.push(record);
        good.push(raw);
      } else {
        // Not a record: set aside for a person to look at, so it cannot block the records behind it.
        await setAside(raw);
        logger.error('history outbox entry is not a record: moved to the dead list');
      }
    }
    const written = records.length ? await writeBatch(records, good) : 0;
    // LREM by value, not a trim by count: another drainer may have removed some of these already.
    const removal = redis.multi();
    for (const raw of good) removal.lrem(outboxKey(keys), 1, raw);
    await removal.exec();
    if (written) await incrementCounter(redis, keys, 'history_records_written_total', {}, written).catch(() => undefined);
    return records.length;
  };

  const drain = async (): Promise<number> => {
    let total = 0;
    for (;;) {
      const n = await drainBatch();
      total += n;
      if (n < batch) return total;
    }
  };

  /** What is settled after the cycle (forward returns, approvals) lives in Redis first: copy it over. */
  const refresh = async () => {
    if (Date.now() - lastRefresh < refreshEveryMs) return;
    lastRefresh = Date.now();
    if (opts.forwardReturns) {
      const unscored = await readUnscored(pool);
      if (unscored.length) await writeForwardReturns(pool, await opts.forwardReturns(unscored));
    }
    if (opts.approvals) {
      const unsettled = await readUnsettled(pool);
      if (unsettled.length) await writeApprovals(pool, await opts.approvals(unsettled));
    }
    await prune();
  };

  /** The retention pass, by the drainer only: rows past HISTORY_RETENTION_DAYS go, oldest first. */
  const prune = async () => {
    const days = opts.retentionDays ?? 0;
    if (days <= 0 || Date.now() - lastPrune < (opts.pruneEveryMs ?? 3_600_000)) return;
    lastPrune = Date.now();
    const before = new Date(Date.now() - days * 86_400_000);
    const gone = await pruneHistory(pool, before);
    const n = gone.cycles + gone.replays;
    if (n) {
      logger.info({ ...gone, before: before.toISOString(), retentionDays: days }, 'history retention: deleted cycles and replay reports past HISTORY_RETENTION_DAYS');
      await incrementCounter(redis, keys, 'history_records_pruned_total', {}, n).catch(() => undefined);
    }
  };

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => ((wake = null), resolve()), ms);
      wake = () => (clearTimeout(timer), (wake = null), resolve());
    });

  const loop = (async () => {
    while (!stopped) {
      let pause = idleMs;
      try {
        if (await holdLease()) {
          await drain();
          await refresh();
        }
        if (failures > 0) logger.info({ after: failures }, 'history writes resumed: PostgreSQL is reachable again');
        failures = 0;
      } catch (err) {
        failures++;
        // Let another process try: its database connection may be the one that works.
        await releaseLease();
        pause = Math.min(maxBackoffMs, idleMs * 2 ** Math.min(failures, 10));
        await incrementCounter(redis, keys, 'history_write_failures_total').catch(() => undefined);
        const log = { err: (err as Error).message, failures, retryMs: pause };
        // One warning per outage, then quiet until it recovers (every failure is counted in /metrics).
        if (failures === 1) logger.warn(log, 'history write failed: records stay in the outbox and are retried');
        else logger.debug(log, 'history write failed again');
      }
      if (!stopped) await sleep(pause);
    }
  })();

  return {
    drain,
    get failures() {
      return failures;
    },
    async stop() {
      stopped = true;
      wake?.();
      await loop;
      await releaseLease();
    },
  };
}

/**
 * The history room: every finished cycle and replay report, kept in PostgreSQL when DATABASE_URL is set.
 * Workers queue records in a Redis outbox (never waiting on PostgreSQL); a writer drains it with
 * idempotent upserts; the API reads from here once Redis no longer holds a job. Its only door.
 */
export { openHistory, type HistoryStore } from './history-store.ts';
export { cycleRecord, type HistoryRecord, type HistoryOutcome, type CycleJobRecord } from './history-record.ts';
export { markAndQueue, queueHistory, outboxDepth, outboxKey } from './outbox.ts';
export { migrateHistory, migrationStatus, MIGRATIONS_TABLE, type MigrationStatus } from './migrate.ts';
export { describeDatabase } from './history-db.ts';
export { HistoryCursorError, type HistoryJobView, type HistoryCycle, type HistoryQuery, type HistoryScoredDecision } from './history-reads.ts';
export type { HistoryWriter } from './history-writer.ts';

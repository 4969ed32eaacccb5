import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runner } from 'node-pg-migrate';
import pg from 'pg';
import type { Logger } from '../core/index.ts';
import type { HistoryConfig } from './history-db.ts';

const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url));
export const MIGRATIONS_TABLE = 'tradeloop_migrations';

/**
 * Applies the history migrations not yet applied, in the configured schema (created if missing).
 * node-pg-migrate holds a PostgreSQL advisory lock while it runs, and waits for it here, so several
 * processes starting at once apply each migration once.
 */
export async function migrateHistory(config: HistoryConfig, logger: Logger): Promise<string[]> {
  if (!config.DATABASE_URL) throw new Error('DATABASE_URL is not set');
  const log = (msg: string) => logger.debug({ schema: config.DATABASE_SCHEMA }, msg);
  const applied = await runner({
    databaseUrl: { connectionString: config.DATABASE_URL, connectionTimeoutMillis: 5_000, application_name: 'tradeloop-migrate' },
    dir: MIGRATIONS_DIR,
    direction: 'up',
    schema: config.DATABASE_SCHEMA,
    createSchema: true,
    migrationsTable: MIGRATIONS_TABLE,
    advisoryLockMode: 'wait',
    singleTransaction: true,
    logger: { debug: log, info: log, warn: (m: string) => logger.warn({ schema: config.DATABASE_SCHEMA }, m), error: (m: string) => logger.error({ schema: config.DATABASE_SCHEMA }, m) },
  });
  const names = applied.map((m) => m.name);
  if (names.length) logger.info({ schema: config.DATABASE_SCHEMA, migrations: names }, 'history migrations applied');
  return names;
}

export interface MigrationStatus {
  schema: string;
  applied: Array<{ name: string; run_on: string }>;
  pending: string[];
}

/** Which migrations this version ships, which the database has, and which are still to apply. */
export async function migrationStatus(config: HistoryConfig): Promise<MigrationStatus> {
  if (!config.DATABASE_URL) throw new Error('DATABASE_URL is not set');
  const shipped = readdirSync(MIGRATIONS_DIR).filter((f) => f.endsWith('.sql')).map((f) => f.slice(0, -4)).sort();
  const client = new pg.Client({ connectionString: config.DATABASE_URL, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    const exists = await client.query('SELECT to_regclass($1) AS t', [`"${config.DATABASE_SCHEMA}"."${MIGRATIONS_TABLE}"`]);
    const rows = exists.rows[0]?.t
      ? (await client.query<{ name: string; run_on: Date }>(`SELECT name, run_on FROM "${config.DATABASE_SCHEMA}"."${MIGRATIONS_TABLE}" ORDER BY run_on, id`)).rows
      : [];
    const done = new Set(rows.map((r) => r.name));
    return { schema: config.DATABASE_SCHEMA, applied: rows.map((r) => ({ name: r.name, run_on: r.run_on.toISOString() })), pending: shipped.filter((n) => !done.has(n)) };
  } finally {
    await client.end();
  }
}

import pg from 'pg';
import { withoutPassword, type Config } from '../core/index.ts';

/** What the history room needs of the configuration. */
export type HistoryConfig = Pick<Config, 'DATABASE_URL' | 'DATABASE_SCHEMA'>;

/** Short enough that a slow or unreachable PostgreSQL never holds a reader or the writer for long. */
const CONNECT_TIMEOUT_MS = 5_000;
const STATEMENT_TIMEOUT_MS = 15_000;

/**
 * A small pool whose connections work in the configured schema (search_path), so tests and installs
 * can share one database, each in its own schema.
 */
export function createHistoryPool(config: HistoryConfig, max = 4): pg.Pool {
  if (!config.DATABASE_URL) throw new Error('DATABASE_URL is not set');
  const pool = new pg.Pool({
    connectionString: config.DATABASE_URL,
    max,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    idleTimeoutMillis: 30_000,
    statement_timeout: STATEMENT_TIMEOUT_MS,
    query_timeout: STATEMENT_TIMEOUT_MS + 1_000,
    options: `-c search_path=${config.DATABASE_SCHEMA}`,
    application_name: 'tradeloop',
  });
  // An idle connection the server drops must not crash the process: the next query reconnects.
  pool.on('error', () => undefined);
  return pool;
}

/** host:port/database of the history database, never its password. */
export function describeDatabase(config: HistoryConfig): string {
  if (!config.DATABASE_URL) return 'none';
  try {
    const u = new URL(config.DATABASE_URL);
    return `${u.hostname}:${u.port || '5432'}${u.pathname} (schema ${config.DATABASE_SCHEMA})`;
  } catch {
    return withoutPassword(config.DATABASE_URL);
  }
}

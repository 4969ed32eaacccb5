import type pg from 'pg';

/** Rows deleted per statement: short transactions, so a large first pass never holds locks for long. */
const BATCH = 1_000;

/**
 * Deletes cycles (their LLM calls go with them) and replay reports that finished before `before`,
 * oldest first, a batch at a time. Returns how many of each went.
 */
export async function pruneHistory(pool: pg.Pool, before: Date): Promise<{ cycles: number; replays: number }> {
  const prune = async (sql: string) => {
    let total = 0;
    for (;;) {
      const { rowCount } = await pool.query(sql, [before, BATCH]);
      total += rowCount ?? 0;
      if ((rowCount ?? 0) < BATCH) return total;
    }
  };
  const cycles = await prune('DELETE FROM cycles WHERE job_id IN (SELECT job_id FROM cycles WHERE finished_at < $1 ORDER BY finished_at LIMIT $2)');
  // A replay that never finished is kept by when it was last written.
  const replays = await prune('DELETE FROM replay_reports WHERE replay_id IN (SELECT replay_id FROM replay_reports WHERE COALESCE(finished_at, written_at) < $1 LIMIT $2)');
  return { cycles, replays };
}

import type pg from 'pg';
import { jobSpend } from '../core/index.ts';
import type { HistoryRecord } from './history-record.ts';

const CYCLE_COLUMNS = [
  'job_id', 'queue', 'schedule_id', 'ticker', 'agent', 'profile', 'trigger', 'dry_run', 'date', 'as_of',
  'requested_at', 'created_at', 'due_at', 'started_at', 'finished_at', 'attempts', 'status', 'reason', 'detail', 'error',
  'decision', 'rating', 'confidence', 'price', 'engine', 'models', 'data_source', 'reports', 'role_reports', 'fill', 'fill_note',
  'prompt_tokens', 'completion_tokens', 'total_tokens', 'llm_calls', 'cost_usd', 'cost_unknown', 'result',
] as const;

// Keyed by job id: the same record twice is one row, and a re-run's later record replaces the earlier
// one. The forward returns and the approval are kept: they are filled in after the cycle, not by it.
const UPSERT_CYCLE = `INSERT INTO cycles (${CYCLE_COLUMNS.join(', ')})
VALUES (${CYCLE_COLUMNS.map((_, i) => `$${i + 1}`).join(', ')})
ON CONFLICT (job_id) DO UPDATE SET ${CYCLE_COLUMNS.slice(1).map((c) => `${c} = EXCLUDED.${c}`).join(', ')}, written_at = now()`;

// A back-filled record never replaces one a worker wrote (or its copied returns and approval).
const INSERT_CYCLE_IF_ABSENT = `INSERT INTO cycles (${CYCLE_COLUMNS.join(', ')})
VALUES (${CYCLE_COLUMNS.map((_, i) => `$${i + 1}`).join(', ')})
ON CONFLICT (job_id) DO NOTHING RETURNING job_id`;

const INSERT_REPLAY_IF_ABSENT = `INSERT INTO replay_reports (replay_id, status, finished_at, report) VALUES ($1, $2, $3, $4)
ON CONFLICT (replay_id) DO NOTHING RETURNING replay_id`;

const UPSERT_REPLAY = `INSERT INTO replay_reports (replay_id, status, finished_at, report) VALUES ($1, $2, $3, $4)
ON CONFLICT (replay_id) DO UPDATE SET status = EXCLUDED.status, finished_at = EXCLUDED.finished_at, report = EXCLUDED.report, written_at = now()`;

const json = (v: unknown) => (v === undefined || v === null ? null : JSON.stringify(v));

/** Writes one cycle and its calls; with `keep`, only when no row has its job id yet. True when written. */
async function writeCycle(client: pg.PoolClient, record: Extract<HistoryRecord, { kind: 'cycle' }>, keep = false): Promise<boolean> {
  const { job, result: r } = record;
  // The cycle's tokens and cost are the whole job's (a retried cycle's earlier attempts included); its
  // cycle_calls rows are the calls of the attempt that completed.
  const u = r ? jobSpend(r) : undefined;
  const written = await client.query(keep ? INSERT_CYCLE_IF_ABSENT : UPSERT_CYCLE, [
    job.id, job.queue, job.schedule_id, job.ticker, job.agent, json(job.profile), job.trigger, job.dry_run, job.date, r?.as_of ?? null,
    job.requested_at, job.created_at, job.due_at, job.started_at, job.finished_at, job.attempts, job.status, job.reason ?? null, job.detail ?? null, job.error ?? null,
    r?.decision ?? null, r?.rating ?? null, r?.confidence ?? null, r?.price ?? null, r?.engine ?? null, r?.models ?? [], r?.data_source ?? null,
    json(r?.reports), json(r?.role_reports), json(r?.fill), r?.fill_note ?? null,
    u?.prompt_tokens ?? 0, u?.completion_tokens ?? 0, u?.total_tokens ?? 0, u?.calls ?? 0, u?.cost_usd ?? 0, u?.cost_unknown === true, json(r),
  ]);
  if (keep && !written.rowCount) return false;
  await client.query('DELETE FROM cycle_calls WHERE job_id = $1', [job.id]);
  const calls = r?.calls ?? [];
  if (calls.length) {
    const values: unknown[] = [];
    const rows = calls.map((c, i) => {
      values.push(job.id, i + 1, c.role, c.model, c.prompt_tokens, c.completion_tokens, c.cost_usd, c.cost_unknown === true, c.usage_unknown === true, c.latency_ms, c.attempt);
      return `(${Array.from({ length: 11 }, (_, k) => `$${i * 11 + k + 1}`).join(', ')})`;
    });
    await client.query(`INSERT INTO cycle_calls (job_id, seq, role, model, prompt_tokens, completion_tokens, cost_usd, cost_unknown, usage_unknown, latency_ms, attempt) VALUES ${rows.join(', ')}`, values);
  }
  return true;
}

/**
 * Writes a batch of records in one transaction: all of them are committed, or none. `keep` (a back-fill)
 * adds only records whose id has no row yet. Returns how many were written.
 */
export async function writeRecords(pool: pg.Pool, records: HistoryRecord[], mode: 'replace' | 'keep' = 'replace'): Promise<number> {
  const keep = mode === 'keep';
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    let written = 0;
    for (const record of records) {
      if (record.kind === 'cycle') written += Number(await writeCycle(client, record, keep));
      else written += (await client.query(keep ? INSERT_REPLAY_IF_ABSENT : UPSERT_REPLAY, [record.replay_id, record.status, record.finished_at, JSON.stringify(record.report)])).rowCount ?? 0;
    }
    await client.query('COMMIT');
    return written;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/** Copies forward returns known elsewhere (the Redis scorecard) onto their cycles. */
export async function writeForwardReturns(pool: pg.Pool, rows: Array<{ job_id: string; return_1d: number | null; return_5d: number | null }>): Promise<number> {
  if (!rows.length) return 0;
  const r = await pool.query(
    `UPDATE cycles c SET return_1d = v.r1, return_5d = v.r5
     FROM unnest($1::text[], $2::float8[], $3::float8[]) AS v(job_id, r1, r5)
     WHERE c.job_id = v.job_id AND (c.return_1d IS DISTINCT FROM v.r1 OR c.return_5d IS DISTINCT FROM v.r5)`,
    [rows.map((x) => x.job_id), rows.map((x) => x.return_1d), rows.map((x) => x.return_5d)],
  );
  return r.rowCount ?? 0;
}

/** Copies how held decisions were settled (the Redis approval records) onto their cycles. */
export async function writeApprovals(pool: pg.Pool, approvals: Array<{ job_id: string }>): Promise<number> {
  if (!approvals.length) return 0;
  const r = await pool.query(
    `UPDATE cycles c SET approval = v.approval
     FROM unnest($1::text[], $2::jsonb[]) AS v(job_id, approval)
     WHERE c.job_id = v.job_id AND c.approval IS DISTINCT FROM v.approval`,
    [approvals.map((a) => a.job_id), approvals.map((a) => JSON.stringify(a))],
  );
  return r.rowCount ?? 0;
}

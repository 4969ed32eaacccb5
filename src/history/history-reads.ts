import type pg from 'pg';
import { nyDate } from '../calendar/index.ts';
import { jobSpend, type ApprovalView, type CycleResult, type Decision, type JobStatus, type JobView, type QueueName, type Rating, type ScoredDecision } from '../core/index.ts';

/** A job as the API shows it (the live job view's fields), read from the history. */
export type HistoryJobView = Omit<JobView, 'progress' | 'worker'> & {
  progress: null;
  worker: null;
  /** Where this view came from: PostgreSQL, once Redis no longer holds the job. */
  source: 'history';
};

export interface HistoryCycle {
  view: HistoryJobView;
  result: CycleResult | null;
}

interface CycleRow {
  job_id: string;
  queue: QueueName;
  schedule_id: string | null;
  ticker: string;
  agent: string;
  trigger: string;
  dry_run: boolean;
  day: string;
  requested_at: Date | null;
  created_at: Date | null;
  due_at: Date | null;
  started_at: Date | null;
  finished_at: Date;
  attempts: number;
  status: 'completed' | 'skipped' | 'failed' | 'cancelled';
  reason: string | null;
  error: string | null;
  result: CycleResult | null;
  approval: ApprovalView | null;
}

const VIEW_COLUMNS = `job_id, queue, schedule_id, ticker, agent, trigger, dry_run, to_char(date, 'YYYY-MM-DD') AS day, requested_at, created_at,
  due_at, started_at, finished_at, attempts, status, reason, error, result, approval`;

/** The job status a held decision's settlement gives it (as the live job view says). */
const APPROVAL_STATUS: Record<ApprovalView['status'], JobStatus> = { pending: 'awaiting_approval', approved: 'completed', rejected: 'rejected', expired: 'expired' };

function toView(row: CycleRow): HistoryJobView {
  const r = row.result;
  const requested = row.requested_at ?? row.due_at ?? row.created_at ?? row.finished_at;
  const view: HistoryJobView = {
    job_id: row.job_id,
    status: r?.awaiting_approval ? (row.approval ? APPROVAL_STATUS[row.approval.status] : 'awaiting_approval') : row.status,
    queue: row.queue,
    ticker: row.ticker,
    agent: row.agent,
    date: row.day,
    schedule_id: row.schedule_id,
    trigger: row.trigger,
    dry_run: row.dry_run,
    requested_at: requested.toISOString(),
    created_at: (row.created_at ?? requested).toISOString(),
    started_at: row.started_at?.toISOString() ?? null,
    completed_at: row.finished_at.toISOString(),
    attempts: row.attempts,
    progress: null,
    worker: null,
    source: 'history',
  };
  if (row.error !== null) view.error = row.error;
  if (row.reason !== null) view.reason = row.reason;
  if (r) Object.assign(view, { decision: r.decision, confidence: r.confidence, engine: r.engine, models: r.models, cost_usd: jobSpend(r).cost_usd, ...(jobSpend(r).cost_unknown ? { cost_unknown: true } : {}), data_source: r.data_source });
  if (r?.awaiting_approval && row.approval) view.approval = row.approval;
  view.duration_ms = row.started_at ? row.finished_at.getTime() - row.started_at.getTime() : null;
  return view;
}

export async function readCycle(pool: pg.Pool, jobId: string): Promise<HistoryCycle | null> {
  const { rows } = await pool.query<CycleRow>(`SELECT ${VIEW_COLUMNS} FROM cycles WHERE job_id = $1`, [jobId]);
  const row = rows[0];
  if (!row) return null;
  // A held decision's fill comes from its approval (null until, and unless, approved), as in the live API.
  const result = row.result && row.result.awaiting_approval && row.approval ? { ...row.result, fill: row.approval.fill } : row.result;
  return { view: toView(row), result };
}

export interface HistoryQuery {
  agent?: string;
  ticker?: string;
  schedule?: string;
  status?: JobStatus;
  decision?: Decision;
  /** Finished at or after / before these instants (ms). */
  from?: number;
  to?: number;
  limit: number;
  cursor?: string;
}

const encodeCursor = (row: CycleRow) => Buffer.from(JSON.stringify([row.finished_at.toISOString(), row.job_id])).toString('base64url');

function decodeCursor(cursor: string): [string, string] | null {
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    return Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && !Number.isNaN(Date.parse(v[0])) && typeof v[1] === 'string' ? [v[0], v[1]] : null;
  } catch {
    return null;
  }
}

export class HistoryCursorError extends Error {
  override name = 'HistoryCursorError';
}

/** Finished cycles, newest first, filtered; `next_cursor` pages on (keyset on finish time and job id). */
export async function listCycles(pool: pg.Pool, q: HistoryQuery): Promise<{ jobs: HistoryJobView[]; next_cursor: string | null }> {
  const where: string[] = [];
  const args: unknown[] = [];
  const arg = (v: unknown) => `$${args.push(v)}`;
  if (q.agent) where.push(`agent = ${arg(q.agent)}`);
  if (q.ticker) where.push(`ticker = ${arg(q.ticker)}`);
  if (q.schedule) where.push(`schedule_id = ${arg(q.schedule)}`);
  if (q.decision) where.push(`decision = ${arg(q.decision)}`);
  const held = `(result->>'awaiting_approval') = 'true'`;
  if (q.status === 'awaiting_approval') where.push(`${held} AND (approval IS NULL OR approval->>'status' = 'pending')`);
  else if (q.status === 'rejected' || q.status === 'expired') where.push(`${held} AND approval->>'status' = ${arg(q.status)}`);
  else if (q.status === 'completed') where.push(`status = 'completed' AND (NOT coalesce(${held}, false) OR approval->>'status' = 'approved')`);
  else if (q.status) where.push(`status = ${arg(q.status)}`);
  if (q.from !== undefined) where.push(`finished_at >= ${arg(new Date(q.from))}`);
  if (q.to !== undefined) where.push(`finished_at < ${arg(new Date(q.to))}`);
  if (q.cursor) {
    const c = decodeCursor(q.cursor);
    if (!c) throw new HistoryCursorError('is not a cursor returned by this API');
    where.push(`(finished_at, job_id) < (${arg(c[0])}::timestamptz, ${arg(c[1])})`);
  }
  const sql = `SELECT ${VIEW_COLUMNS} FROM cycles ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY finished_at DESC, job_id DESC LIMIT ${arg(q.limit + 1)}`;
  const { rows } = await pool.query<CycleRow>(sql, args);
  const page = rows.slice(0, q.limit);
  return { jobs: page.map(toView), next_cursor: rows.length > q.limit ? encodeCursor(page.at(-1)!) : null };
}

/** One decision as the scorecard counts it. */
export type HistoryScoredDecision = ScoredDecision;

/**
 * The decisions the live scorecard counts, by the same rule as the settle step: completed, with a
 * price, an analysis of the session of the day it ran (New York; when it was settled or finished plays
 * no part, so a re-run or an approval after midnight still counts), not a replay's; a held decision
 * only once approved (and filled).
 */
const SCORED = `status = 'completed' AND price IS NOT NULL AND trigger <> 'replay'
  AND date >= ((result->>'started_at')::timestamptz AT TIME ZONE 'America/New_York')::date
  AND ((result->>'awaiting_approval') IS DISTINCT FROM 'true'
    OR (approval->>'status' = 'approved' AND (approval->>'fill_pending') = 'false'))`;

export async function readScoredDecisions(pool: pg.Pool, agent: string): Promise<HistoryScoredDecision[]> {
  const { rows } = await pool.query<{
    job_id: string; agent: string; ticker: string; day: string; decision: Decision; rating: Rating | null; confidence: number | null; engine: string | null;
    data_source: string | null; price: number; models: string[]; cost_usd: number; cost_unknown: boolean; started: string | null; finished: string | null; as_of: Date | null; return_1d: number | null; return_5d: number | null;
  }>(
    `SELECT job_id, agent, ticker, to_char(date, 'YYYY-MM-DD') AS day, decision, rating, confidence, engine, data_source, price, models, cost_usd, cost_unknown,
       result->>'started_at' AS started, result->>'finished_at' AS finished, as_of, return_1d, return_5d
     FROM cycles WHERE agent = $1 AND ${SCORED} ORDER BY finished_at`,
    [agent],
  );
  return rows.map((r) => ({
    job_id: r.job_id,
    agent: r.agent,
    ticker: r.ticker,
    date: r.day,
    decision: r.decision,
    ...(r.rating ? { rating: r.rating } : {}),
    ...(r.confidence !== null ? { confidence: r.confidence } : {}),
    ...(r.engine ? { engine: r.engine } : {}),
    ...(r.data_source ? { data_source: r.data_source } : {}),
    price: r.price,
    ...(r.as_of ? { price_date: nyDate(r.as_of) } : {}),
    models: r.models,
    cost_usd: r.cost_usd,
    ...(r.cost_unknown ? { cost_unknown: true } : {}),
    cycle_ms: r.started && r.finished ? Date.parse(r.finished) - Date.parse(r.started) : 0,
    at: r.finished ?? '',
    return_1d: r.return_1d,
    return_5d: r.return_5d,
  }));
}

/** Scored decisions still waiting for a +5 return, recent enough to still get one. */
export async function readUnscored(pool: pg.Pool, sinceDays = 30, limit = 1000): Promise<Array<{ job_id: string; agent: string }>> {
  const { rows } = await pool.query<{ job_id: string; agent: string }>(
    `SELECT job_id, agent FROM cycles WHERE ${SCORED} AND return_5d IS NULL AND finished_at > now() - make_interval(days => $1) ORDER BY finished_at DESC LIMIT $2`,
    [sinceDays, limit],
  );
  return rows;
}

/** The views of finished replays on record, newest finished first: the replay list once Redis has forgotten them. */
export async function listReplayViews(pool: pg.Pool, limit: number): Promise<unknown[]> {
  const { rows } = await pool.query<{ view: unknown }>("SELECT report->'view' AS view FROM replay_reports WHERE report ? 'view' ORDER BY finished_at DESC NULLS LAST, replay_id LIMIT $1", [limit]);
  return rows.map((r) => r.view);
}

export async function readReplayReport(pool: pg.Pool, replayId: string): Promise<{ replay_id: string; status: string; finished_at: string | null; report: unknown } | null> {
  const { rows } = await pool.query<{ replay_id: string; status: string; finished_at: Date | null; report: unknown }>('SELECT replay_id, status, finished_at, report FROM replay_reports WHERE replay_id = $1', [replayId]);
  const r = rows[0];
  return r ? { replay_id: r.replay_id, status: r.status, finished_at: r.finished_at?.toISOString() ?? null, report: r.report } : null;
}

/** Held decisions whose settlement may still change (pending, or approved with the fill not yet written). */
export async function readUnsettled(pool: pg.Pool, sinceDays = 14, limit = 1000): Promise<string[]> {
  const { rows } = await pool.query<{ job_id: string }>(
    `SELECT job_id FROM cycles WHERE (result->>'awaiting_approval') = 'true'
       AND (approval IS NULL OR approval->>'status' = 'pending' OR (approval->>'fill_pending') = 'true')
       AND finished_at > now() - make_interval(days => $1) ORDER BY finished_at DESC LIMIT $2`,
    [sinceDays, limit],
  );
  return rows.map((r) => r.job_id);
}

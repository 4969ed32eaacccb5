import type { Redis } from 'ioredis';
import type { CycleJobData, CycleResult, PaperFill } from './contracts.ts';
import { incrementCounter } from './counters.ts';
import { publishEvent } from './events.ts';
import type { ProductKeys } from './keys.ts';

/**
 * Decisions waiting for a human (profiles with `approval: required`): one record per job id, settled
 * once — approved, rejected, or expired at the session's close. The transition is atomic in Redis, so
 * two approvers, or an approver and the expiry sweep, cannot both win.
 */
export const APPROVAL_STATUSES = ['pending', 'approved', 'rejected', 'expired'] as const;
export type ApprovalStatus = (typeof APPROVAL_STATUSES)[number];

export interface ApprovalView {
  job_id: string;
  status: ApprovalStatus;
  agent: string;
  ticker: string;
  decision: string;
  price: number | null;
  created_at: string;
  expires_at: string;
  settled_by: string | null;
  settled_at: string | null;
  note: string | null;
  fill: PaperFill | null;
  /** Approved, but the fill has not been written yet (a crash between the two): approving again completes it. */
  fill_pending: boolean;
}

const RETAIN_S = 14 * 24 * 3600;
const recordKey = (keys: ProductKeys, jobId: string) => keys.custom('approval', jobId);
const pendingKey = (keys: ProductKeys) => keys.custom('approvals', 'pending');

/** pending → new status, once; returns 1 when this call made the transition. */
const SETTLE_SCRIPT = `
if redis.call('HGET', KEYS[1], 'status') ~= 'pending' then return 0 end
redis.call('HSET', KEYS[1], 'status', ARGV[1], 'settled_by', ARGV[2], 'settled_at', ARGV[3], 'note', ARGV[4])
redis.call('ZREM', KEYS[2], ARGV[5])
return 1`;

/** Records a decision as waiting (once per job id); returns false when one was already recorded. */
export async function createPendingApproval(redis: Redis, keys: ProductKeys, jobId: string, args: { analysis: CycleResult; job: CycleJobData; expiresAt: Date; now: Date }): Promise<boolean> {
  const key = recordKey(keys, jobId);
  const created = await redis.hsetnx(key, 'status', 'pending');
  if (!created) return false;
  const { analysis, job } = args;
  await redis
    .multi()
    .hset(key, {
      analysis: JSON.stringify(analysis),
      job: JSON.stringify(job),
      agent: job.agent,
      ticker: job.ticker,
      decision: analysis.decision,
      price: analysis.price === null ? '' : String(analysis.price),
      created_at: args.now.toISOString(),
      expires_at: args.expiresAt.toISOString(),
    })
    .expire(key, RETAIN_S)
    .zadd(pendingKey(keys), args.expiresAt.getTime(), jobId)
    .exec();
  await incrementCounter(redis, keys, 'approvals_total', { agent: job.agent, outcome: 'pending' });
  await publishEvent(redis, keys, 'decision.pending', { job_id: jobId, agent: job.agent, ticker: job.ticker, decision: analysis.decision, price: analysis.price, expires_at: args.expiresAt.toISOString() });
  return true;
}

function toView(jobId: string, h: Record<string, string>): ApprovalView | null {
  if (!h.status || !h.created_at) return null;
  return {
    job_id: jobId,
    status: h.status as ApprovalStatus,
    agent: h.agent ?? '',
    ticker: h.ticker ?? '',
    decision: h.decision ?? '',
    price: h.price ? Number(h.price) : null,
    created_at: h.created_at,
    expires_at: h.expires_at ?? '',
    settled_by: h.settled_by || null,
    settled_at: h.settled_at || null,
    note: h.note || null,
    fill: h.fill ? (JSON.parse(h.fill) as PaperFill | null) : null,
    fill_pending: h.status === 'approved' && h.fill === undefined,
  };
}

/** The approval of a job, or null; a pending one past its expiry is expired first. */
export async function readApproval(redis: Redis, keys: ProductKeys, jobId: string, now = new Date()): Promise<ApprovalView | null> {
  let view = toView(jobId, await redis.hgetall(recordKey(keys, jobId)));
  if (view?.status === 'pending' && Date.parse(view.expires_at) <= now.getTime()) {
    await settleApprovalState(redis, keys, jobId, 'expired', 'session close', null, now);
    view = toView(jobId, await redis.hgetall(recordKey(keys, jobId)));
  }
  return view;
}

/** The stored analysis and job data a settle needs. */
export async function readApprovalPayload(redis: Redis, keys: ProductKeys, jobId: string): Promise<{ analysis: CycleResult; job: CycleJobData } | null> {
  const [analysis, job] = await redis.hmget(recordKey(keys, jobId), 'analysis', 'job');
  return analysis && job ? { analysis: JSON.parse(analysis) as CycleResult, job: JSON.parse(job) as CycleJobData } : null;
}

/** The atomic transition out of pending; true when this call settled it. Counted and announced once. */
export async function settleApprovalState(redis: Redis, keys: ProductKeys, jobId: string, status: Exclude<ApprovalStatus, 'pending'>, by: string, note: string | null, now: Date): Promise<boolean> {
  const won = Number(await redis.eval(SETTLE_SCRIPT, 2, recordKey(keys, jobId), pendingKey(keys), status, by, now.toISOString(), note ?? '', jobId)) === 1;
  if (won) {
    const [agent, ticker, decision] = await redis.hmget(recordKey(keys, jobId), 'agent', 'ticker', 'decision');
    await incrementCounter(redis, keys, 'approvals_total', { agent: agent ?? '', outcome: status });
    await publishEvent(redis, keys, `decision.${status}`, { job_id: jobId, agent, ticker, decision, by, note });
  }
  return won;
}

export async function storeApprovalFill(redis: Redis, keys: ProductKeys, jobId: string, fill: PaperFill | null, fillNote?: string): Promise<void> {
  await redis.hset(recordKey(keys, jobId), 'fill', JSON.stringify(fill), 'fill_note', fillNote ?? '');
}

/** Expires every pending decision whose session has closed; returns the job ids expired. */
export async function expireDueApprovals(redis: Redis, keys: ProductKeys, now: Date): Promise<string[]> {
  const due = await redis.zrangebyscore(pendingKey(keys), '-inf', String(now.getTime()));
  const expired: string[] = [];
  for (const jobId of due) {
    if (await settleApprovalState(redis, keys, jobId, 'expired', 'session close', null, now)) expired.push(jobId);
    else await redis.zrem(pendingKey(keys), jobId);
  }
  return expired;
}

/** Pending decisions, soonest expiry first. */
export async function listPendingApprovals(redis: Redis, keys: ProductKeys, now = new Date()): Promise<ApprovalView[]> {
  await expireDueApprovals(redis, keys, now);
  const ids = await redis.zrange(pendingKey(keys), '0', '499');
  const views = await Promise.all(ids.map((id) => readApproval(redis, keys, id, now)));
  return views.filter((v): v is ApprovalView => v !== null);
}

/** Approval statuses of many jobs at once (job lists), null where a job has none. */
export async function readApprovalStatuses(redis: Redis, keys: ProductKeys, jobIds: string[]): Promise<Array<ApprovalStatus | null>> {
  if (!jobIds.length) return [];
  const pipe = redis.pipeline();
  for (const id of jobIds) pipe.hget(recordKey(keys, id), 'status');
  const res = (await pipe.exec()) ?? [];
  return res.map(([, v]) => (v ? (v as ApprovalStatus) : null));
}

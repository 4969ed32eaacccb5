import type { Redis } from 'ioredis';
import { productKeys, sumUsage, ZERO_USAGE, type LlmCall, type RoleReportKey, type RoleReports, type Usage } from '../../core/index.ts';

/** The LLM desk's audit trail of one job, written as each role finishes, so a failed cycle keeps what it did. */
export interface DeskRun {
  job_id: string;
  agent: string;
  ticker: string;
  date: string;
  attempt: number;
  status: 'running' | 'completed' | 'failed';
  error?: string;
  role_reports: RoleReports;
  /** This attempt's calls; they sum to `usage`. */
  calls: LlmCall[];
  usage: Usage;
  /** What the job's earlier attempts spent on models (their calls are not kept, their usage is), when any did. */
  earlier_attempts?: Usage;
  /** The whole job's usage: the earlier attempts' and this one's. */
  job_usage: Usage;
}

/** Kept as long as the scorecard waits for a decision's outcome, and some (reflections read it). */
const TTL_S = 45 * 24 * 3600;

const runKey = (prefix: string, jobId: string) => productKeys(prefix).custom('desk-run', jobId);

export function deskRunRecorder(redis: Redis, prefix: string, run: { job_id: string; agent: string; ticker: string; date: string; attempt: number }) {
  const key = runKey(prefix, run.job_id);
  let calls = 0;
  let earlier: Usage | null = null;
  const meta = (status: DeskRun['status'], error?: string) => JSON.stringify({ ...run, status, ...(error ? { error } : {}), ...(earlier ? { earlier_attempts: earlier } : {}) });
  // The audit trail is best effort: a Redis refusing writes must not fail (and so re-run) the analysis;
  // the stored analysis carries the same calls and role reports.
  const touch = (m: ReturnType<Redis['multi']>) => m.expire(key, TTL_S).exec().catch(() => null);
  return {
    /**
     * A new attempt starts from a clean record, carrying what the job's earlier attempts spent (a retry, a
     * re-run after a crash): their calls were paid for, and a budget or report of the job must count them.
     */
    async start(): Promise<void> {
      const before = await readDeskRun(redis, prefix, run.job_id).catch(() => null);
      earlier = before && before.job_usage.calls > 0 ? before.job_usage : null;
      await touch(redis.multi().del(key).hset(key, 'meta', meta('running')));
    },
    /** What earlier attempts of this job spent (known once `start` has run); null when none made a call. */
    earlier(): Usage | null {
      return earlier;
    },
    async report(role: RoleReportKey, text: string): Promise<void> {
      await touch(redis.multi().hset(key, `report:${role}`, text));
    },
    async call(call: LlmCall): Promise<void> {
      await touch(redis.multi().hset(key, `call:${String(calls++).padStart(4, '0')}`, JSON.stringify(call)));
    },
    async finish(status: 'completed' | 'failed', error?: string): Promise<void> {
      await touch(redis.multi().hset(key, 'meta', meta(status, error)));
    },
  };
}
export type DeskRunRecorder = ReturnType<typeof deskRunRecorder>;

/** One job's desk run (null when the job ran no LLM desk, or it has expired). */
export async function readDeskRun(redis: Redis, prefix: string, jobId: string): Promise<DeskRun | null> {
  const fields = await redis.hgetall(runKey(prefix, jobId));
  if (!fields.meta) return null;
  const meta = JSON.parse(fields.meta) as Omit<DeskRun, 'role_reports' | 'calls' | 'usage' | 'job_usage'>;
  const role_reports: RoleReports = {};
  const calls: LlmCall[] = [];
  for (const name of Object.keys(fields).sort()) {
    if (name.startsWith('report:')) role_reports[name.slice(7) as RoleReportKey] = fields[name]!;
    else if (name.startsWith('call:')) calls.push(JSON.parse(fields[name]!) as LlmCall);
  }
  const usage = usageOfCalls(calls);
  return { ...meta, role_reports, calls, usage, job_usage: meta.earlier_attempts ? sumUsage(meta.earlier_attempts, usage) : usage };
}

function usageOfCalls(calls: LlmCall[]): Usage {
  const sum = calls.reduce((a, c) => ({ p: a.p + c.prompt_tokens, c: a.c + c.completion_tokens, usd: a.usd + c.cost_usd }), { p: 0, c: 0, usd: 0 });
  if (calls.length === 0) return { ...ZERO_USAGE };
  return {
    prompt_tokens: sum.p,
    completion_tokens: sum.c,
    total_tokens: sum.p + sum.c,
    cost_usd: Math.round(sum.usd * 1e6) / 1e6,
    calls: calls.length,
    ...(calls.some((c) => c.cost_unknown) ? { cost_unknown: true } : {}),
    ...(calls.some((c) => c.usage_unknown) ? { usage_unknown: true } : {}),
  };
}

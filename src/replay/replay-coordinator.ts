import type { Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { cycleJobDataSchema, CYCLE_JOB_NAME, cycleJobOptions, DEFAULT_QUEUE, jobOutcomeSchema, jobSpend, type Config, type Logger, type ProductKeys } from '../core/index.ts';
import { readDeskRun } from '../agents/index.ts';
import { cancelJob, type QueueSet } from '../tasks/index.ts';
import type { ReplayLease } from './replay-lease.ts';
import { finishReplay, markEnqueued, readCycles, readInflight, readSpec, readState, recordCycle } from './replay-store.ts';
import { replayJobId, taskAt, type ReplayCycle, type ReplaySpec } from './replay-types.ts';

/** BullMQ priority of replay cycles: any live cycle (no priority) is served first. */
export const REPLAY_PRIORITY = 1000;
/** A replay stops as failed after this many cycles in a row failed: a broken setup should not burn the budget. */
export const MAX_CONSECUTIVE_FAILURES = 5;
/**
 * Cycles kept queued per worker slot when every profile is quant: a slot that finishes takes the next
 * cycle straight from the queue instead of waiting for the coordinator to add it. Quant decisions read
 * only the point-in-time bars (never the replay's ledger), so their order does not matter.
 */
export const QUANT_WINDOW_FACTOR = 4;

/**
 * How many of a replay's cycles may be queued or running at once: the workers' slots, times
 * QUANT_WINDOW_FACTOR for all-quant replays. LLM cycles keep one per slot, so a budget stop is
 * never far behind the spend and the model provider's rate limit is not flooded.
 */
export function replayWindow(spec: Pick<ReplaySpec, 'settings'>, slots: number): number {
  const quantOnly = Object.values(spec.settings).every((p) => p.engine !== 'llm');
  return Math.max(1, slots) * (quantOnly ? QUANT_WINDOW_FACTOR : 1);
}

export interface CoordinatorDeps {
  redis: Redis;
  keys: ProductKeys;
  config: Config;
  logger: Logger;
  /** Replays run on the queue live scheduled cycles use: its workers, limits and rate limiter. */
  queues: QueueSet;
  /** Cycles the workers serving that queue can run at once (the replay's window). */
  concurrency(): Promise<number>;
  now?: () => Date;
}

export type TickResult = 'continue' | 'finished' | 'lease_lost';

/** The job data of task `i`: the session (or the intraday instant) as the point in time, the replay field set. */
export function replayJobData(spec: ReplaySpec, i: number, now: Date) {
  const { slot, profile, ticker } = taskAt(spec, i);
  const s = spec.slots[slot]!;
  return cycleJobDataSchema.parse({
    agent: profile,
    ticker,
    schedule_id: null,
    trigger: 'replay',
    dry_run: true,
    requested_at: now.toISOString(),
    date: s.date,
    market_hours: 'always',
    profile: spec.settings[profile],
    overlap: 'allow',
    replay: { id: spec.id, profile, ...(s.as_of ? { as_of: s.as_of } : {}) },
  });
}

function cycleFrom(spec: ReplaySpec, i: number, job: Job, state: string, now: Date): ReplayCycle | null {
  const { slot, profile, ticker } = taskAt(spec, i);
  const s = spec.slots[slot]!;
  const base = { i, profile, ticker, date: s.date, as_of: s.as_of, job_id: String(job.id), recorded_at: now.toISOString() };
  const failed = (error: string): ReplayCycle => ({ ...base, status: 'failed', decision: null, rating: null, confidence: null, price: null, price_as_of: null, data_source: null, cost_usd: 0, cost_unknown: false, usage_unknown: false, tokens: 0, cycle_ms: null, error });
  if (state === 'failed') return failed(job.failedReason || 'failed');
  if (state !== 'completed') return null;
  const outcome = jobOutcomeSchema.safeParse(job.returnvalue);
  if (!outcome.success) return failed('the job returned no readable outcome');
  if (outcome.data.status !== 'completed') return failed(`${outcome.data.status}: ${outcome.data.reason}`);
  const r = outcome.data.result;
  const spent = jobSpend(r);
  return {
    ...base,
    status: 'completed',
    decision: r.decision,
    rating: r.rating,
    confidence: r.confidence,
    price: r.price,
    price_as_of: r.as_of ?? null,
    data_source: r.data_source,
    cost_usd: spent.cost_usd,
    cost_unknown: spent.cost_unknown === true,
    usage_unknown: spent.usage_unknown === true,
    tokens: spent.total_tokens,
    cycle_ms: Date.parse(r.finished_at) - Date.parse(r.started_at),
    error: null,
  };
}

/**
 * Drives one replay a step: records the cycles that finished, stops on cancel, budget or repeated
 * failure, enqueues the next tasks (one bulk add) up to the replay's window, and ends the replay when every task
 * is recorded. Everything lives in Redis, so any host holding the lease can take over at any step.
 */
export async function tickReplay(deps: CoordinatorDeps, id: string, lease: ReplayLease, cache: { spec?: ReplaySpec } = {}): Promise<TickResult> {
  const now = () => deps.now?.() ?? new Date();
  const { redis, keys } = deps;
  if (!(await lease.renew())) return 'lease_lost';
  const spec = (cache.spec ??= (await readSpec(redis, keys, id)) ?? undefined);
  let state = await readState(redis, keys, id);
  if (!spec || !state) return 'finished';
  const log = deps.logger.child({ replay: id });
  const queue = deps.queues[DEFAULT_QUEUE];
  const options = (jobId: string) => ({ ...cycleJobOptions(DEFAULT_QUEUE, deps.config), jobId, priority: REPLAY_PRIORITY });

  // Record what finished. The states of the window are read together (one pipelined round trip),
  // the state before the job: a job read before its state could miss the return value it just got.
  let inflight = await readInflight(redis, keys, id);
  let lastError = '';
  const states = await Promise.all(inflight.map((i) => queue.getJobState(replayJobId(id, i))));
  const ended = inflight.map((i, n) => ({ i, jobState: states[n]! })).filter((e) => e.jobState === 'completed' || e.jobState === 'failed' || e.jobState === 'unknown');
  const jobs = await Promise.all(ended.map((e) => (e.jobState === 'unknown' ? undefined : queue.getJob(replayJobId(id, e.i)))));
  for (const [n, { i, jobState }] of ended.entries()) {
    const jobId = replayJobId(id, i);
    const job = jobs[n];
    if (!job) {
      if (state.status === 'running') {
        // Removed by retention before it was read (or lost): run it again rather than leave a hole.
        log.warn({ jobId }, 'replay cycle job missing: enqueued again');
        await queue.add(CYCLE_JOB_NAME, replayJobData(spec, i, now()), options(jobId));
      }
      continue;
    }
    const cycle = cycleFrom(spec, i, job, jobState, now());
    if (cycle?.status === 'failed') Object.assign(cycle, await spentByFailedCycle(deps, jobId));
    if (cycle && (await recordCycle(redis, keys, id, cycle)) && cycle.error) lastError = cycle.error;
  }
  state = (await readState(redis, keys, id))!;
  inflight = await readInflight(redis, keys, id);

  if (state.status !== 'running') {
    // Cancelled (by the API or the CLI): take back what has not run yet.
    for (const i of inflight) await removeOrCancel(deps, replayJobId(id, i));
    return 'finished';
  }
  if (state.consecutive_failures >= MAX_CONSECUTIVE_FAILURES) {
    await finishReplay(redis, keys, id, 'failed', `${state.consecutive_failures} cycles in a row failed${lastError ? ` (last: ${lastError})` : ''}`, now());
    for (const i of inflight) await removeOrCancel(deps, replayJobId(id, i));
    log.warn({ failures: state.consecutive_failures }, 'replay failed: cycles keep failing');
    return 'finished';
  }

  // A budget cannot be kept on costs it cannot see: the first cycle whose cost is not known stops the replay
  // (a profile whose model has no price on a hosted server is refused at the start; this is a server that
  // reported no usage, or prices that changed since).
  const max = spec.max_cost_usd;
  if (max !== null && state.cost_unknown_cycles > 0) {
    const why = (await readCycles(redis, keys, id)).some((c) => c.cost_unknown && c.usage_unknown) ? 'the LLM server reported no token usage' : 'a hosted model has no price: set LLM_PRICES';
    const n = state.cost_unknown_cycles;
    await finishReplay(redis, keys, id, 'failed', `the cost of ${n} cycle${n === 1 ? ' is' : 's are'} not known (${why}), so the $${max} budget cannot be kept: stopped with at least $${state.cost_usd.toFixed(4)} spent`, now());
    for (const i of inflight) await removeOrCancel(deps, replayJobId(id, i));
    log.warn({ cost_unknown_cycles: n, max_cost_usd: max }, 'replay stopped: costs not known, the budget cannot be kept');
    return 'finished';
  }

  // The budget: stop before a cycle would likely take the spend past it.
  const meanCost = state.done > 0 ? state.cost_usd / state.done : 0;
  const overBudget = (extra: number) => max !== null && (state!.cost_usd >= max || state!.cost_usd + meanCost * extra > max);
  let budgetStop = overBudget(inflight.length);
  if (!budgetStop) {
    const window = replayWindow(spec, await deps.concurrency());
    let next = state.next;
    const batch: number[] = [];
    while (inflight.length + batch.length < window && next + batch.length < spec.total) {
      if (overBudget(inflight.length + batch.length + 1)) {
        budgetStop = true;
        break;
      }
      batch.push(next + batch.length);
    }
    if (batch.length > 0) {
      if (!(await lease.renew())) return 'lease_lost';
      // Added before they are marked: a coordinator dying in between re-adds the same job ids, which
      // BullMQ ignores, so nothing runs twice.
      await queue.addBulk(batch.map((i) => ({ name: CYCLE_JOB_NAME, data: replayJobData(spec, i, now()), opts: options(replayJobId(id, i)) })));
      await markEnqueued(redis, keys, id, batch);
      inflight.push(...batch);
      next += batch.length;
    }
    state.next = next;
  }
  if (inflight.length > 0) return 'continue';
  if (budgetStop) {
    await finishReplay(redis, keys, id, 'budget_exhausted', `spent $${state.cost_usd.toFixed(4)} of the $${max} budget; the next cycle would likely exceed it`, now());
    log.info({ cost_usd: state.cost_usd, max_cost_usd: max }, 'replay stopped: budget exhausted');
    return 'finished';
  }
  if (state.next >= spec.total) {
    await finishReplay(redis, keys, id, 'done', '', now());
    log.info({ cycles: spec.total, cost_usd: state.cost_usd }, 'replay done');
    return 'finished';
  }
  return 'continue';
}

/**
 * What a failed cycle's model calls cost, from the LLM desk's audit trail of the job: every attempt's (the
 * record of the last one carries what the earlier ones spent). A cycle that made no call (quant, or failed
 * before its first) cost nothing.
 */
async function spentByFailedCycle(deps: CoordinatorDeps, jobId: string): Promise<Pick<ReplayCycle, 'cost_usd' | 'cost_unknown' | 'usage_unknown' | 'tokens'>> {
  const run = await readDeskRun(deps.redis, deps.config.QUEUE_PREFIX, jobId).catch(() => null);
  if (!run) return { cost_usd: 0, cost_unknown: false, usage_unknown: false, tokens: 0 };
  const u = run.job_usage;
  return { cost_usd: u.cost_usd, cost_unknown: u.cost_unknown === true, usage_unknown: u.usage_unknown === true, tokens: u.total_tokens };
}

/** A replay cycle not run yet is removed; a running one is cancelled (its signal aborted). */
async function removeOrCancel(deps: CoordinatorDeps, jobId: string): Promise<void> {
  await cancelJob({ redis: deps.redis, keys: deps.keys, queues: deps.queues }, jobId).catch(() => undefined);
}

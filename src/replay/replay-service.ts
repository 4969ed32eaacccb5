import type { Redis } from 'ioredis';
import type { MarketCalendar } from '../calendar/index.ts';
import { lacksPrice, pricingOf } from '../agents/index.ts';
import type { Config, ProductKeys } from '../core/index.ts';
import { queueHistory } from '../history/index.ts';
import { cancelJob, type QueueSet } from '../tasks/index.ts';
import { tradingDays } from './replay-plan.ts';
import { buildReport, type ReplayReport, type ReplaySessions } from './replay-report.ts';
import { planReplay, readReplayCatalog } from './replay-request.ts';
import { finishReplay, listReplayIds, readCycles, readInflight, readSpec, readState, saveNewReplay } from './replay-store.ts';
import { replayJobId, type ReplayCycle, type ReplaySpec, type ReplayState, type ReplayStatus } from './replay-types.ts';

export interface ReplayContext {
  redis: Redis;
  keys: ProductKeys;
  queues: QueueSet;
  calendar: MarketCalendar;
  now: () => Date;
}

/** A replay as GET /api/replays/:id shows it (the report comes separately). */
export interface ReplayView {
  replay_id: string;
  status: ReplayStatus;
  profiles: string[];
  tickers: string[];
  from: string;
  to: string;
  schedule_id: string | null;
  max_cost_usd: number | null;
  sessions: number;
  slots: number;
  progress: { done: number; total: number; failed: number; by_profile: Record<string, { done: number; total: number }> };
  /** The known costs' sum: at least this was spent when cost_unknown_cycles > 0. */
  cost_usd: number;
  /** Cycles some of whose cost is not known. */
  cost_unknown_cycles: number;
  tokens: number;
  /** Seconds left at the recent pace; null before two cycles finished or once the replay ended. */
  eta_s: number | null;
  created_at: string;
  finished_at: string | null;
  reason: string | null;
}

/** Seconds left, from the pace of the last (up to) 20 recorded cycles. */
export function etaSeconds(cycles: Pick<ReplayCycle, 'recorded_at'>[], left: number): number | null {
  if (left <= 0) return 0;
  const times = cycles.map((c) => Date.parse(c.recorded_at)).sort((a, b) => a - b).slice(-20);
  if (times.length < 2) return null;
  const per = (times.at(-1)! - times[0]!) / (times.length - 1);
  return Math.round((per * left) / 1000);
}

export function toReplayView(spec: ReplaySpec, state: ReplayState, cycles: ReplayCycle[]): ReplayView {
  const perProfile = spec.total / spec.profiles.length;
  const byProfile = Object.fromEntries(spec.profiles.map((p) => [p, { done: cycles.filter((c) => c.profile === p).length, total: perProfile }]));
  return {
    replay_id: spec.id,
    status: state.status,
    profiles: spec.profiles,
    tickers: spec.tickers,
    from: spec.from,
    to: spec.to,
    schedule_id: spec.schedule_id,
    max_cost_usd: spec.max_cost_usd,
    sessions: new Set(spec.slots.map((s) => s.date)).size,
    slots: spec.slots.length,
    progress: { done: state.done, total: spec.total, failed: state.failed_cycles, by_profile: byProfile },
    cost_usd: Math.round(state.cost_usd * 1e6) / 1e6,
    cost_unknown_cycles: state.cost_unknown_cycles,
    tokens: state.tokens,
    eta_s: state.status === 'running' ? etaSeconds(cycles, spec.total - state.done) : null,
    created_at: spec.created_at,
    finished_at: state.finished_at,
    reason: state.reason,
  };
}

/** The settings the workers price LLM calls with (the same environment as this process's). */
export type LlmPricingSettings = Pick<Config, 'OPENAI_API_KEY' | 'OPENAI_BASE_URL' | 'LLM_PRICES'>;

/** Plans and stores a replay; a coordinator host picks it up within a second. */
export async function createReplay(ctx: ReplayContext, body: unknown, llm: LlmPricingSettings): Promise<ReplayView> {
  const now = ctx.now();
  const catalog = await readReplayCatalog(ctx.redis, ctx.keys);
  // Without a key or a base URL an llm profile is decided by the quant engine: nothing is billed.
  const pricing = llm.OPENAI_API_KEY || llm.OPENAI_BASE_URL ? pricingOf(llm) : null;
  const spec = planReplay(body, { calendar: ctx.calendar, now, ...catalog, lacksPrice: pricing ? (model) => lacksPrice(pricing, model) : () => false });
  await saveNewReplay(ctx.redis, ctx.keys, spec, now);
  return toReplayView(spec, (await readState(ctx.redis, ctx.keys, spec.id))!, []);
}

async function load(ctx: ReplayContext, id: string) {
  const [spec, state] = await Promise.all([readSpec(ctx.redis, ctx.keys, id), readState(ctx.redis, ctx.keys, id)]);
  if (!spec || !state) return null;
  return { spec, state, cycles: await readCycles(ctx.redis, ctx.keys, id) };
}

export async function getReplay(ctx: ReplayContext, id: string): Promise<{ view: ReplayView; report: ReplayReport } | null> {
  const found = await load(ctx, id);
  if (!found) return null;
  const sessions: ReplaySessions = { closeOf: (date) => ctx.calendar.sessionOn(date, 'regular')!.close.toISOString(), between: (from, to) => tradingDays(ctx.calendar, from, to) };
  return { view: toReplayView(found.spec, found.state, found.cycles), report: buildReport(found.spec, found.state, found.cycles, sessions, ctx.now()) };
}

/** Where a replay is (status, counts, spend) without reading its cycles: for tight progress polls. */
export async function replayState(ctx: Pick<ReplayContext, 'redis' | 'keys'>, id: string): Promise<ReplayState | null> {
  return readState(ctx.redis, ctx.keys, id);
}

/**
 * Queues a finished replay's view and report for the durable history (with DATABASE_URL), so they
 * outlive Redis. Queued again on a later call; the write is an upsert, so that is harmless.
 */
export async function archiveReplay(ctx: ReplayContext, id: string): Promise<boolean> {
  const found = await getReplay(ctx, id);
  if (!found || found.view.status === 'running') return false;
  await queueHistory(ctx.redis, ctx.keys, { kind: 'replay', replay_id: id, status: found.view.status, finished_at: found.view.finished_at, report: found });
  return true;
}

export async function listReplays(ctx: ReplayContext, limit = 100): Promise<ReplayView[]> {
  const ids = await listReplayIds(ctx.redis, ctx.keys, limit);
  const views = await Promise.all(ids.map(async (id) => {
    const found = await load(ctx, id);
    return found ? toReplayView(found.spec, found.state, found.cycles) : null;
  }));
  return views.filter((v): v is ReplayView => v !== null);
}

/**
 * Cancels a running replay: its status turns `cancelled` at once (the partial report stays), and its
 * cycles not yet run are taken off the queue; a running one is told to abort.
 */
export async function cancelReplay(ctx: ReplayContext, id: string): Promise<'cancelled' | 'finished' | null> {
  const state = await readState(ctx.redis, ctx.keys, id);
  if (!state) return null;
  if (!(await finishReplay(ctx.redis, ctx.keys, id, 'cancelled', 'cancelled on request', ctx.now()))) return 'finished';
  for (const i of await readInflight(ctx.redis, ctx.keys, id)) await cancelJob(ctx, replayJobId(id, i)).catch(() => undefined);
  return 'cancelled';
}

/** Replays by status and cycles recorded, for /metrics. */
export async function replayCounts(ctx: Pick<ReplayContext, 'redis' | 'keys'>): Promise<{ byStatus: Record<ReplayStatus, number>; cycles: number }> {
  const ids = await listReplayIds(ctx.redis, ctx.keys, 10_000);
  const byStatus: Record<ReplayStatus, number> = { running: 0, done: 0, cancelled: 0, budget_exhausted: 0, failed: 0 };
  let cycles = 0;
  for (const id of ids) {
    const s = await readState(ctx.redis, ctx.keys, id);
    if (!s) continue;
    byStatus[s.status]++;
    cycles += s.done;
  }
  return { byStatus, cycles };
}

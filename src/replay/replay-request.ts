import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { nyDate, type MarketCalendar } from '../calendar/index.ts';
import { agentNameSchema, BUILTIN_AGENTS, isoDateSchema, tickerSchema, type AgentProfile, type ProductKeys, type ScheduleEntry } from '../core/index.ts';
import { planSlots, tradingDays } from './replay-plan.ts';
import type { ReplaySpec } from './replay-types.ts';

/** Most cycles one replay may ask for (slots × profiles × tickers). */
export const MAX_REPLAY_CYCLES = 20_000;

export const replayRequestSchema = z
  .object({
    profiles: z.array(agentNameSchema).min(1, 'name at least one agent profile').max(8, 'at most 8 profiles'),
    tickers: z.array(tickerSchema).min(1, 'name at least one ticker').max(20, 'at most 20 tickers'),
    from: isoDateSchema,
    to: isoDateSchema,
    /** A schedule id: replay its intraday slots instead of one cycle per session close. */
    schedule: z.string().min(1).max(64).optional(),
    max_cost_usd: z.number().positive().max(100_000).optional(),
  })
  .strict();
export type ReplayRequest = z.infer<typeof replayRequestSchema>;

export interface FieldIssue {
  field: string;
  message: string;
}

/** A request that cannot run; every problem names its field. */
export class ReplayRequestError extends Error {
  override name = 'ReplayRequestError';
  constructor(readonly details: FieldIssue[]) {
    super(`invalid replay request: ${details.map((d) => `${d.field}: ${d.message}`).join('; ')}`);
  }
}

/** The profiles and schedules the scheduler published (the same ones live cycles use). */
export async function readReplayCatalog(redis: Redis, keys: ProductKeys): Promise<{ agents: Record<string, AgentProfile>; schedules: Record<string, ScheduleEntry> }> {
  const [agents, schedules] = await Promise.all([redis.hgetall(keys.agents), redis.hgetall(keys.schedules)]);
  return {
    agents: { ...BUILTIN_AGENTS, ...Object.fromEntries(Object.entries(agents).map(([k, v]) => [k, JSON.parse(v) as AgentProfile])) },
    schedules: Object.fromEntries(Object.entries(schedules).map(([k, v]) => [k, JSON.parse(v) as ScheduleEntry])),
  };
}

export function newReplayId(now: Date): string {
  return `${now.toISOString().slice(0, 10).replace(/-/g, '')}-${randomBytes(4).toString('hex')}`;
}

/**
 * Checks a request against the calendar, the clock and the published profiles and schedules, and
 * plans its slots. Throws ReplayRequestError naming each bad field.
 */
export function planReplay(
  raw: unknown,
  ctx: {
    calendar: MarketCalendar;
    now: Date;
    agents: Record<string, AgentProfile>;
    schedules: Record<string, ScheduleEntry>;
    id?: string;
    /** True for a model whose calls would have no known cost (no price on a hosted server). */
    lacksPrice?: (model: string) => boolean;
  },
): ReplaySpec {
  const parsed = replayRequestSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ReplayRequestError(
      parsed.error.issues.flatMap((i) =>
        i.code === 'unrecognized_keys' ? i.keys.map((k) => ({ field: k, message: 'unknown field' })) : [{ field: i.path.join('.') || '(body)', message: i.message }],
      ),
    );
  }
  const req = parsed.data;
  const issues: FieldIssue[] = [];
  const profiles = [...new Set(req.profiles)];
  const tickers = [...new Set(req.tickers)];
  profiles.forEach((p, n) => {
    if (!ctx.agents[p]) issues.push({ field: `profiles.${n}`, message: `unknown agent profile "${p}" (known: ${Object.keys(ctx.agents).sort().join(', ')})` });
  });
  const today = nyDate(ctx.now);
  if (req.from > today) issues.push({ field: 'from', message: `${req.from} is in the future (today is ${today} in New York)` });
  if (req.to > today) issues.push({ field: 'to', message: `${req.to} is in the future (today is ${today} in New York)` });
  if (req.from > req.to) issues.push({ field: 'from', message: `${req.from} is after to (${req.to})` });
  let schedule: ScheduleEntry | null = null;
  if (req.schedule !== undefined) {
    schedule = ctx.schedules[req.schedule] ?? null;
    if (!schedule) issues.push({ field: 'schedule', message: `unknown schedule "${req.schedule}" (known: ${Object.keys(ctx.schedules).sort().join(', ') || 'none'})` });
  }
  // A budget cannot be kept on a cost that cannot be known: refused before anything is spent.
  if (req.max_cost_usd !== undefined && ctx.lacksPrice) {
    for (const p of profiles) {
      const profile = ctx.agents[p];
      if (profile?.engine !== 'llm') continue;
      for (const model of new Set([profile.quick_model, profile.deep_model])) {
        if (ctx.lacksPrice(model)) issues.push({ field: 'max_cost_usd', message: `profile "${p}" uses model "${model}", which has no price on this hosted LLM server, so a budget cannot count its cost: price it with LLM_PRICES, or replay without max_cost_usd` });
      }
    }
  }
  if (issues.length) throw new ReplayRequestError(issues);
  let slots;
  try {
    slots = planSlots(ctx.calendar, req, schedule, ctx.now);
  } catch (err) {
    if (err instanceof RangeError) throw new ReplayRequestError([{ field: 'schedule', message: err.message }]);
    throw err;
  }
  if (slots.length === 0) {
    const days = tradingDays(ctx.calendar, req.from, req.to);
    throw new ReplayRequestError([{ field: 'from', message: days.length ? `no session from ${req.from} to ${req.to} has closed yet` : `no NYSE trading day from ${req.from} to ${req.to}` }]);
  }
  const total = slots.length * profiles.length * tickers.length;
  if (total > MAX_REPLAY_CYCLES) {
    throw new ReplayRequestError([{ field: 'to', message: `the replay would run ${total} cycles (${slots.length} slots × ${profiles.length} profiles × ${tickers.length} tickers); the limit is ${MAX_REPLAY_CYCLES}: shorten the range` }]);
  }
  return {
    id: ctx.id ?? newReplayId(ctx.now),
    created_at: ctx.now.toISOString(),
    profiles,
    tickers,
    from: req.from,
    to: req.to,
    schedule_id: schedule?.id ?? null,
    max_cost_usd: req.max_cost_usd ?? null,
    settings: Object.fromEntries(profiles.map((p) => [p, ctx.agents[p]!])),
    slots,
    total,
  };
}

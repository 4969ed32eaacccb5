import { Counter, Gauge, Registry } from 'prom-client';
import { MarketCalendar } from '../calendar/index.ts';
import { QUEUE_NAMES, readCounters, readHistograms, readLastSuccess } from '../core/index.ts';
import { readLoadStatus, readPausedIds, readPublishedSchedules } from '../scheduler/index.ts';
import { readWorkers } from '../tasks/index.ts';
import { replayCounts } from '../replay/index.ts';
import { outboxDepth } from '../history/index.ts';
import type { ApiContext } from './api-context.ts';
import { histogramText } from './histogram-text.ts';
import { scheduleSilence, type ScheduleSilence } from './schedule-silence.ts';

interface ScrapeState {
  lastSuccess: Awaited<ReturnType<typeof readLastSuccess>>;
  schedules: ScheduleSilence[];
  counters: Awaited<ReturnType<typeof readCounters>>;
}

/** Counters every process keeps in Redis, exported under these names at scrape time. */
export const REDIS_COUNTERS: Record<string, { help: string; labels: string[] }> = {
  cycles_completed_total: { help: 'Trading cycles completed', labels: ['queue', 'agent'] },
  cycles_failed_total: { help: 'Trading cycles failed (after their last attempt) or cancelled', labels: ['queue', 'agent'] },
  cycles_skipped_total: { help: 'Cycles recorded as skipped (market_closed, stale, overlap, cancelled)', labels: ['schedule', 'reason'] },
  schedule_rearmed_total: { help: 'Job schedulers re-armed by the watchdog', labels: ['schedule'] },
  llm_tokens_total: { help: 'LLM tokens used as the server reported them (every call, failed cycles included)', labels: ['agent', 'model', 'kind'] },
  llm_cost_usd_total: { help: 'LLM cost in USD from the price table (every call, failed cycles included)', labels: ['agent', 'model'] },
  cycle_cost_usd_total: { help: 'LLM cost in USD of completed cycles, per schedule and agent (the known part, for cycles counted in cycles_cost_unknown_total)', labels: ['schedule', 'agent'] },
  cycles_cost_unknown_total: { help: 'Completed cycles whose LLM cost is not fully known (an unpriced hosted model, a server that reported no usage)', labels: ['schedule', 'agent'] },
  llm_calls_cost_unknown_total: { help: 'LLM calls whose cost is not known: reason=unpriced (no price for the hosted model) or no_usage (the server reported no token usage; its tokens are not in llm_tokens_total)', labels: ['agent', 'model', 'reason'] },
  approvals_total: { help: 'Decisions held for approval (outcome=pending) and how they were settled (approved, rejected, expired)', labels: ['agent', 'outcome'] },
  history_records_written_total: { help: 'Records (cycles, replay reports) committed to the durable history in PostgreSQL', labels: [] },
  history_records_pruned_total: { help: 'Cycles and replay reports deleted from the durable history past HISTORY_RETENTION_DAYS', labels: [] },
  history_write_failures_total: { help: 'Failed attempts to write the outbox to PostgreSQL (retried; nothing is lost)', labels: [] },
  data_fallback_total: { help: 'Cycles whose market data fell back to SIMULATED because the real source was unavailable', labels: ['from', 'to'] },
};

/**
 * /metrics, all of it read from Redis at scrape time so it survives restarts and every dashboard
 * answers the same: queue depth per state (the autoscaling signal), workers online, the counters
 * and histograms workers record, the last success per schedule and the market/schedule state the
 * alert rules join against.
 */
export function createMetrics(ctx: ApiContext): { contentType: string; metrics: () => Promise<string> } {
  const registry = new Registry();
  const calendar = new MarketCalendar({ extraClosures: ctx.config.MARKET_CLOSURES });
  new Gauge({
    name: 'tradeloop_queue_jobs',
    help: 'Jobs per queue and state (scale workers on waiting + prioritized)',
    labelNames: ['queue', 'state'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const name of QUEUE_NAMES) {
        const counts = await ctx.queues[name].getJobCounts('waiting', 'prioritized', 'active', 'delayed', 'completed', 'failed');
        for (const [state, n] of Object.entries(counts)) this.set({ queue: name, state }, n);
      }
    },
  });
  new Gauge({
    name: 'tradeloop_queue_paused',
    help: '1 when the queue is paused',
    labelNames: ['queue'],
    registers: [registry],
    async collect() {
      for (const name of QUEUE_NAMES) this.set({ queue: name }, (await ctx.queues[name].isPaused()) ? 1 : 0);
    },
  });
  new Gauge({
    name: 'tradeloop_workers_online',
    help: 'Worker processes with a fresh heartbeat',
    registers: [registry],
    async collect() {
      this.set((await readWorkers(ctx.redis, ctx.keys)).filter((w) => w.online).length);
    },
  });
  new Gauge({
    name: 'tradeloop_market_open',
    help: '1 while the regular NYSE session is open (market calendar of this install)',
    registers: [registry],
    collect() {
      this.set(calendar.isOpen(ctx.now(), 'regular') ? 1 : 0);
    },
  });
  // One read of Redis per scrape, before the collectors run (prom-client runs them concurrently).
  let scrape: ScrapeState = { lastSuccess: [], schedules: [], counters: [] };
  new Gauge({
    name: 'tradeloop_schedule_last_success_timestamp_seconds',
    help: 'Unix time of the last completed run fired by the schedule (manual triggers excluded)',
    labelNames: ['schedule', 'ticker'],
    registers: [registry],
    collect() {
      this.reset();
      for (const s of scrape.lastSuccess) this.set({ schedule: s.schedule, ticker: s.ticker }, s.at_s);
    },
  });
  const scheduleGauge = (name: string, help: string, value: (s: ScheduleSilence) => number | null) =>
    new Gauge({
      name,
      help,
      labelNames: ['schedule', 'ticker'],
      registers: [registry],
      collect() {
        this.reset();
        for (const s of scrape.schedules) {
          const v = value(s);
          if (v !== null) this.set({ schedule: s.schedule, ticker: s.ticker }, v);
        }
      },
    });
  scheduleGauge('tradeloop_schedule_silence_seconds', 'Seconds without a successful scheduled run while the schedule should be running (its session open, enabled, not paused); 0 otherwise', (s) => s.silence_s);
  scheduleGauge('tradeloop_schedule_interval_seconds', "The schedule's `every` interval (cron schedules have none)", (s) => s.interval_s);
  scheduleGauge('tradeloop_schedule_paused', '1 when the schedule is paused', (s) => (s.paused ? 1 : 0));
  // Both replay gauges read one pass over the replays (collects run concurrently).
  let replays: ReturnType<typeof replayCounts> | null = null;
  new Gauge({
    name: 'tradeloop_replays',
    help: 'Replays by status (running, done, cancelled, budget_exhausted, failed)',
    labelNames: ['status'],
    registers: [registry],
    async collect() {
      replays = replayCounts(ctx);
      const { byStatus } = await replays;
      this.reset();
      for (const [status, n] of Object.entries(byStatus)) this.set({ status }, n);
    },
  });
  new Gauge({
    name: 'tradeloop_replay_cycles',
    help: 'Cycles recorded by replays, all replays together',
    registers: [registry],
    async collect() {
      this.set((await (replays ?? replayCounts(ctx))).cycles);
    },
  });
  new Gauge({
    name: 'tradeloop_history_outbox_depth',
    help: 'Finished records waiting in Redis to be written to PostgreSQL (grows while the database is down)',
    registers: [registry],
    async collect() {
      this.set(await outboxDepth(ctx.redis, ctx.keys));
    },
  });
  if (ctx.history) {
    const history = ctx.history;
    new Gauge({
      name: 'tradeloop_history_database_up',
      help: '1 when the durable history database answers (DATABASE_URL set)',
      registers: [registry],
      async collect() {
        this.set((await history.check(1_500)).ok ? 1 : 0);
      },
    });
  }
  for (const [name, def] of Object.entries(REDIS_COUNTERS)) {
    new Counter({
      name: `tradeloop_${name}`,
      help: def.help,
      labelNames: def.labels,
      registers: [registry],
      collect() {
        this.reset();
        for (const c of scrape.counters) if (c.name === name) this.inc(c.labels, c.value);
      },
    });
  }
  const load = async (): Promise<ScrapeState> => {
    const [entries, paused, lastSuccess, status, counters] = await Promise.all([
      readPublishedSchedules(ctx.redis, ctx.keys),
      readPausedIds(ctx.redis, ctx.keys),
      readLastSuccess(ctx.redis, ctx.keys),
      readLoadStatus(ctx.redis, ctx.keys),
      readCounters(ctx.redis, ctx.keys),
    ]);
    const schedules = scheduleSilence({ entries, paused, lastSuccess, calendar, now: ctx.now(), loadedAt: status ? Date.parse(status.loaded_at) : null });
    return { lastSuccess, schedules, counters };
  };
  return {
    contentType: registry.contentType,
    async metrics() {
      const [state, histograms] = await Promise.all([load(), readHistograms(ctx.redis, ctx.keys)]);
      scrape = state;
      const text = await registry.metrics();
      return text + histogramText(histograms);
    },
  };
}

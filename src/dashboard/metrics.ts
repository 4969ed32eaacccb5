import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { QUEUE_NAMES, readCounters } from '../core/index.ts';
import { replayCounts } from '../replay/index.ts';
import { dueTimeFromJobId, readWorkers } from '../tasks/index.ts';
import type { ApiContext } from './api-context.ts';
import type { LiveEvents } from './live-events.ts';

/** Counters other processes keep in Redis, exported under these names at scrape time. */
const REDIS_COUNTERS: Record<string, { help: string; labels: string[] }> = {
  cycles_completed_total: { help: 'Trading cycles completed', labels: ['queue', 'agent'] },
  cycles_failed_total: { help: 'Trading cycles failed (after their last attempt) or cancelled', labels: ['queue', 'agent'] },
  cycles_skipped_total: { help: 'Cycles recorded as skipped (market_closed, stale, overlap, cancelled)', labels: ['schedule', 'reason'] },
  schedule_rearmed_total: { help: 'Job schedulers re-armed by the watchdog', labels: ['schedule'] },
  llm_tokens_total: { help: 'LLM tokens used', labels: ['agent', 'model', 'kind'] },
  llm_cost_usd_total: { help: 'LLM cost in USD from the price table', labels: ['agent', 'model'] },
  data_fallback_total: { help: 'Cycles whose market data fell back to SIMULATED because the real source was unavailable', labels: ['from', 'to'] },
};

/**
 * /metrics: queue depth per state (the autoscaling signal), workers online, cross-process counters
 * read from Redis at scrape time, and cycle duration / schedule lag histograms fed by live events.
 */
export function createMetrics(ctx: ApiContext, live: LiveEvents): Registry {
  const registry = new Registry();
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
    name: 'tradeloop_workers_online',
    help: 'Worker processes with a fresh heartbeat',
    registers: [registry],
    async collect() {
      this.set((await readWorkers(ctx.redis, ctx.keys)).filter((w) => w.online).length);
    },
  });
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
  // One collect reads the Redis hash for all counters.
  let snapshot: Awaited<ReturnType<typeof readCounters>> = [];
  const counters = Object.entries(REDIS_COUNTERS).map(([name, def], i) =>
    new Counter({
      name: `tradeloop_${name}`,
      help: def.help,
      labelNames: def.labels,
      registers: [registry],
      async collect() {
        if (i === 0) snapshot = await readCounters(ctx.redis, ctx.keys);
        this.reset();
        for (const c of snapshot) if (c.name === name) this.inc(c.labels, c.value);
      },
    }),
  );
  void counters;
  const duration = new Histogram({
    name: 'tradeloop_cycle_duration_seconds',
    help: 'Time from a cycle start to its end',
    labelNames: ['queue', 'status'],
    buckets: [0.05, 0.1, 0.5, 1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800],
    registers: [registry],
  });
  const lag = new Histogram({
    name: 'tradeloop_schedule_lag_seconds',
    help: 'Delay from a scheduled cycle due time to its start',
    labelNames: ['queue'],
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300],
    registers: [registry],
  });
  live.on((e) => {
    if (e.type !== 'cycle.completed' && e.type !== 'cycle.skipped') return;
    const processed = Number(e.processed_on);
    const finished = Number(e.finished_on);
    if (processed && finished) duration.observe({ queue: String(e.queue), status: e.type.slice(6) }, (finished - processed) / 1000);
    const due = dueTimeFromJobId(String(e.job_id));
    if (due && processed) lag.observe({ queue: String(e.queue) }, Math.max(0, processed - due) / 1000);
  });
  return registry;
}

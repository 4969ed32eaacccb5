import { MarketCalendar } from '../src/calendar/index.ts';
import { closeQueues, createRedisConnection, openQueues, productKeys, type Config } from '../src/core/index.ts';
import { createReplay, QUANT_WINDOW_FACTOR, replayState, startReplayHost } from '../src/replay/index.ts';
import { startWorkers } from '../src/tasks/index.ts';
import { round } from './bench-stats.ts';
import pino from 'pino';

/**
 * A quant replay of one ticker over the 250 sessions of 2025, through the real queue, a worker with
 * sandboxed cycles and simulated data, driven by a replay coordinator: the wall time until it is done.
 */
export async function replayBench(config: Config): Promise<Record<string, unknown>> {
  const silent = pino({ level: 'silent' });
  const workers = await startWorkers(config, silent);
  const host = await startReplayHost(config, silent, { pollMs: 100 });
  const redis = createRedisConnection(config, 'producer');
  const queues = openQueues(redis, config.QUEUE_PREFIX);
  try {
    // Let the worker's first heartbeat land, so the window is its real concurrency.
    await new Promise((r) => setTimeout(r, 1_500));
    const ctx = { redis, keys: productKeys(config.QUEUE_PREFIX), queues, calendar: new MarketCalendar(), now: () => new Date() };
    const t0 = Date.now();
    const view = await createReplay(ctx, { profiles: ['quant'], tickers: ['SPY'], from: '2025-01-01', to: '2025-12-31' }, config);
    let status = 'running';
    let failed = 0;
    // The state alone: a poll that built the whole report ten times a second would be the bench's own load.
    while (status === 'running') {
      await new Promise((r) => setTimeout(r, 100));
      const state = await replayState(ctx, view.replay_id);
      status = state?.status ?? 'missing';
      failed = state?.failed_cycles ?? 0;
    }
    const s = (Date.now() - t0) / 1000;
    return { engine: 'quant', sessions: view.sessions, cycles: view.progress.total, status, failed_cycles: failed, worker_concurrency: config.WORKER_CONCURRENCY, window: config.WORKER_CONCURRENCY * QUANT_WINDOW_FACTOR, seconds: round(s), cycles_per_s: round(view.progress.total / s), target_s: 60 };
  } finally {
    await host.stop();
    await workers.stop();
    await closeQueues(queues);
    redis.disconnect();
  }
}

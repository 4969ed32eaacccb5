import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { MarketCalendar } from '../src/calendar/index.ts';
import { closeQueues, createRedisConnection, openQueues, type QueueName } from '../src/core/index.ts';
import { desiredSchedulers, loadScheduleFile, startScheduler } from '../src/scheduler/index.ts';
import { findStalledSchedulers } from '../src/scheduler/scheduler-watchdog.ts';
import { reconcileSchedulers } from '../src/scheduler/reconcile.ts';
import { memoRepeatStrategy } from '../src/scheduler/cron-pattern.ts';
import { benchConfig, log, silent } from './bench-context.ts';
import { round } from './bench-stats.ts';

const TICKERS_PER_SCHEDULE = 5;

/** A schedule file with `pairs` (schedule, ticker) pairs: gated `every` and cron schedules, 5 tickers each. */
function scheduleFile(pairs: number, variant = 0): string {
  const lines = ['version: 1', 'schedules:'];
  for (let i = 0; i < Math.ceil(pairs / TICKERS_PER_SCHEDULE); i++) {
    const tickers = Array.from({ length: Math.min(TICKERS_PER_SCHEDULE, pairs - i * TICKERS_PER_SCHEDULE) }, (_, k) => `S${i}T${k}`);
    const timing = i % 2 === 0 ? `every: ${i === 0 && variant ? 10 : 15}m, market_hours: regular` : `cron: "${i % 60} 10 * * 1-5", market_hours: regular, timezone: America/New_York`;
    lines.push(`  - { id: s${i}, agent: quant, tickers: [${tickers.join(', ')}], ${timing} }`);
  }
  return `${lines.join('\n')}\n`;
}

/** Bytes Redis holds under a prefix (MEMORY USAGE of every key, pipelined). */
async function prefixMemory(redis: Redis, prefix: string): Promise<{ keys: number; bytes: number }> {
  let cursor = '0';
  let keys = 0;
  let bytes = 0;
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (!batch.length) continue;
    const p = redis.pipeline();
    for (const k of batch) p.memory('USAGE', k, 'SAMPLES', '0');
    for (const [, v] of (await p.exec()) ?? []) bytes += Number(v ?? 0);
    keys += batch.length;
  } while (cursor !== '0');
  return { keys, bytes };
}

const ms = (t0: number) => round(performance.now() - t0, 1);

/**
 * How the scheduler's cost grows with the number of (schedule, ticker) pairs: reconcile from scratch,
 * an unchanged reconcile (what every 5 s tick does), a watchdog pass, Redis memory; at the largest size
 * also a reload after a one-line edit of the file, through the running scheduler.
 */
export async function schedulerScale(opts: { sizes: number[] }) {
  const rows: Array<Record<string, number | string>> = [];
  const calendar = new MarketCalendar();
  for (const pairs of opts.sizes) {
    const dir = mkdtempSync(join(os.tmpdir(), 'tl-bench-scale-'));
    const file = join(dir, 'schedules.yaml');
    writeFileSync(file, scheduleFile(pairs));
    const cfg = benchConfig({ SCHEDULES_FILE: file });
    const redis = createRedisConnection(cfg, 'worker');
    // The scheduler's own queue settings (its cron strategy), as startScheduler opens them.
    const queues = openQueues(redis, cfg.QUEUE_PREFIX, undefined, { repeatStrategy: memoRepeatStrategy() });
    const set = await loadScheduleFile(file);
    const now = new Date();
    let t0 = performance.now();
    const desired = desiredSchedulers(set, new Set(), calendar, now);
    const plan = ms(t0);
    t0 = performance.now();
    const first = await reconcileSchedulers(queues as Record<QueueName, never>, desired);
    const fromScratch = ms(t0);
    t0 = performance.now();
    const again = await reconcileSchedulers(queues as Record<QueueName, never>, desired);
    const unchanged = ms(t0);
    t0 = performance.now();
    const stalled = await findStalledSchedulers(queues as Record<QueueName, never>, desired, Date.now());
    const watchdog = ms(t0);
    const mem = await prefixMemory(redis, cfg.QUEUE_PREFIX);
    const row: Record<string, number | string> = {
      pairs: desired.length,
      plan_ms: plan,
      reconcile_from_scratch_ms: fromScratch,
      reconcile_unchanged_ms: unchanged,
      watchdog_pass_ms: watchdog,
      redis_keys: mem.keys,
      redis_kb: round(mem.bytes / 1024),
      redis_bytes_per_pair: Math.round(mem.bytes / Math.max(1, desired.length)),
      added: first.added.length,
      unchanged_after: again.unchanged,
      stalled_found: stalled.length,
    };
    await closeQueues(queues);
    if (pairs === Math.max(...opts.sizes)) Object.assign(row, await reloadAfterEdit(cfg, file, pairs));
    redis.disconnect();
    rows.push(row);
    log(`scheduler ${desired.length} pairs: reconcile ${fromScratch} ms from scratch, ${unchanged} ms unchanged, watchdog ${watchdog} ms, ${row.redis_kb} KB in Redis${row.reload_one_line_ms !== undefined ? `, one-line reload ${row.reload_one_line_ms} ms` : ''}`);
  }
  return rows;
}

/** A running scheduler (start-up reconcile, then a one-line edit: one schedule's interval) and its reload. */
async function reloadAfterEdit(cfg: ReturnType<typeof benchConfig>, file: string, pairs: number) {
  const fresh = benchConfig({ SCHEDULES_FILE: file });
  let t0 = performance.now();
  const svc = await startScheduler(fresh, silent, { watch: false, tickMs: 3_600_000, watchdogMs: 3_600_000 });
  const startup = ms(t0);
  writeFileSync(file, scheduleFile(pairs, 1));
  t0 = performance.now();
  const report = await svc.reload();
  const reload = ms(t0);
  t0 = performance.now();
  await svc.reload();
  const idle = ms(t0);
  await svc.stop();
  void cfg;
  return { scheduler_start_ms: startup, reload_one_line_ms: reload, reload_changed: (report?.updated.length ?? 0) + (report?.rolled.length ?? 0) + (report?.added.length ?? 0), reload_no_change_ms: idle };
}

import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { startScheduler } from '../src/scheduler/index.ts';
import { startWorkers } from '../src/tasks/index.ts';
import { benchConfig, log, silent, sleep, warmUp } from './bench-context.ts';
import { percentile, round } from './bench-stats.ts';

/**
 * 3 schedules `every: 1s`, `market_hours: always`, for `seconds`, in the default (sandbox) mode. The lag
 * of a fire is its cycle body's start (stamped by the no-op cycle) minus its due time (in its job id),
 * as the Celery baseline measures a Beat fire at the top of the task. Missed: a whole second without a
 * fire between the first and the last fire of a schedule; duplicate: two fires with one due time.
 */
export async function schedulePrecision(opts: { seconds: number; sandbox?: boolean; wakeWorkers?: boolean }) {
  const dir = mkdtempSync(join(os.tmpdir(), 'tl-bench-sched-'));
  const file = join(dir, 'schedules.yaml');
  writeFileSync(file, `schedules:\n${['a', 'b', 'c'].map((id) => `  - { id: ${id}, agent: quant, ticker: SPY, every: 1s, market_hours: always, overlap: allow }\n`).join('')}`);
  const cfg = benchConfig({ SCHEDULES_FILE: file });
  const worker = await startWorkers(cfg, silent, { sandbox: opts.sandbox ?? true, concurrency: 4, queues: ['trading-cycle'] });
  const fires: Array<{ key: string; due: number; started: number; taken: number }> = [];
  for (const w of worker.workers) {
    w.on('completed', (job) => {
      const m = /^repeat:(.+):(\d+)$/.exec(String(job.id));
      const started = Number((job.returnvalue as { result?: { indicators?: { started_ms?: number } } })?.result?.indicators?.started_ms);
      if (m && Number.isFinite(started)) fires.push({ key: m[1]!, due: Number(m[2]), started, taken: job.processedOn ?? Number.NaN });
    });
  }
  await warmUp(cfg, worker);
  const scheduler = await startScheduler(cfg, silent, { watch: false, wakeWorkers: opts.wakeWorkers ?? true });
  const t0 = Date.now();
  await sleep(opts.seconds * 1000);
  const t1 = Date.now();
  await scheduler.stop();
  await worker.stop();
  // The first fires follow the scheduler's start (children still warming up): the lag counts from 2 s in.
  const steady = fires.filter((f) => f.due >= t0 + 2000);
  const lags = steady.map((f) => f.started - f.due);
  // Where the lag comes from: BullMQ taking the run (processedOn) late, or our own path from there to the cycle body.
  const takes = steady.map((f) => f.taken - f.due).filter(Number.isFinite);
  let missed = 0;
  let duplicates = 0;
  for (const key of ['a:SPY', 'b:SPY', 'c:SPY']) {
    const dues = fires.filter((s) => s.key === key).map((s) => s.due).sort((x, y) => x - y);
    duplicates += dues.length - new Set(dues).size;
    const inside = dues.filter((d) => d > t0 + 1000 && d < t1 - 2000);
    if (inside.length > 1) missed += Math.round((inside.at(-1)! - inside[0]!) / 1000) + 1 - new Set(inside).size;
  }
  const row = {
    seconds: opts.seconds,
    fires: fires.length,
    lag_p50_ms: round(percentile(lags, 50), 2),
    lag_p99_ms: round(percentile(lags, 99), 2),
    lag_max_ms: round(Math.max(...lags), 2),
    taken_p50_ms: round(percentile(takes, 50), 2),
    taken_p99_ms: round(percentile(takes, 99), 2),
    missed,
    duplicates,
  };
  log(`schedule: ${fires.length} fires, lag p50 ${row.lag_p50_ms} ms p99 ${row.lag_p99_ms} ms (taken by BullMQ p50 ${row.taken_p50_ms} p99 ${row.taken_p99_ms}), missed ${missed}, duplicates ${duplicates}`);
  return row;
}

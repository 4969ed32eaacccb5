import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { log } from './bench-context.ts';

/** The Celery 5 prefork + Beat figures the product is compared with (medians over run.sh's repetitions). */
export interface CeleryBaseline {
  source: string;
  date: string;
  e2e_c2_per_s: number;
  e2e_c8_per_s: number;
  latency_start_p50_ms: number;
  latency_start_p99_ms: number;
  /** Send → completion seen by the sender. */
  latency_done_p50_ms: number;
  latency_done_p99_ms: number;
  beat_drift_p50_ms: number;
  beat_drift_p99_ms: number;
}

/** run.sh lives beside the project, in the shared bench folder: `../shared/bench/celery/` from the project root. */
export const DEFAULT_CELERY_DIR = resolve(process.cwd(), '../shared/bench/celery');

const median = (xs: number[]) => {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (!s.length) return NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

interface CeleryRun {
  e2e_c2?: { per_s: number };
  e2e_c8?: { per_s: number };
  latency_start?: { p50: number; p99: number };
  latency_roundtrip?: { p50: number; p99: number };
  beat?: { drift: { p50: number; p99: number } };
}

export function readCeleryResults(path: string): CeleryBaseline {
  const file = existsSync(path) && statSync(path).isDirectory() ? join(path, 'results.json') : path;
  const doc = JSON.parse(readFileSync(file, 'utf8')) as { date: string; runs: CeleryRun[] };
  const runs = doc.runs ?? [];
  return {
    source: file,
    date: doc.date,
    e2e_c2_per_s: median(runs.map((r) => r.e2e_c2?.per_s ?? NaN)),
    e2e_c8_per_s: median(runs.map((r) => r.e2e_c8?.per_s ?? NaN)),
    latency_start_p50_ms: median(runs.map((r) => r.latency_start?.p50 ?? NaN)),
    latency_start_p99_ms: median(runs.map((r) => r.latency_start?.p99 ?? NaN)),
    latency_done_p50_ms: median(runs.map((r) => r.latency_roundtrip?.p50 ?? NaN)),
    latency_done_p99_ms: median(runs.map((r) => r.latency_roundtrip?.p99 ?? NaN)),
    beat_drift_p50_ms: median(runs.map((r) => r.beat?.drift.p50 ?? NaN)),
    beat_drift_p99_ms: median(runs.map((r) => r.beat?.drift.p99 ?? NaN)),
  };
}

/**
 * The baseline: a fresh run of `run.sh` (when `run` is set; its reports go to a scratch folder, since
 * the shared folder may be read-only), else the `results.json` found at `location` (a folder or the file).
 */
export function celeryBaseline(location: string, run: boolean): CeleryBaseline | null {
  if (run) {
    const script = join(location, 'run.sh');
    const out = mkdtempSync(join(os.tmpdir(), 'tl-celery-'));
    log(`celery: running ${script} (about 5 minutes)…`);
    const r = spawnSync('bash', [script], { env: { ...process.env, OUT: out }, stdio: ['ignore', 'ignore', 'inherit'] });
    if (r.status !== 0) throw new Error(`${script} failed (exit ${r.status})`);
    return readCeleryResults(join(out, 'results.json'));
  }
  try {
    return readCeleryResults(location);
  } catch (err) {
    log(`celery: no baseline at ${location} (${(err as Error).message}); ratios against Celery are left out`);
    return null;
  }
}

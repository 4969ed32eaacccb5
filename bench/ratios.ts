import type { CeleryBaseline } from './celery-baseline.ts';
import { round } from './bench-stats.ts';

type Row = Record<string, number | string>;

/**
 * The one `ratios` object of the bench's output. Throughput ratios: higher is better (goal: default
 * mode ≥ 2 × Celery, in process ≥ 0.9 × bare BullMQ). Latency ratios: product ÷ Celery, lower is
 * better (goal: enqueue → start p99 ≤ 2 × Celery's).
 */
export function ratiosOf(report: { throughput?: Row[]; latency?: Row; schedule?: Row }, celery: CeleryBaseline | null): Record<string, number> {
  const out: Record<string, number> = {};
  const r = (a: unknown, b: unknown) => round(Number(a) / Number(b), 3);
  for (const row of report.throughput ?? []) {
    const c = row.concurrency;
    out[`in_process_vs_bare_bullmq_c${c}`] = r(row.in_process_jobs_per_s, row.bare_jobs_per_s);
    out[`sandbox_vs_bare_bullmq_c${c}`] = r(row.sandbox_jobs_per_s, row.bare_jobs_per_s);
    out[`sandbox_vs_in_process_c${c}`] = r(row.sandbox_jobs_per_s, row.in_process_jobs_per_s);
    // CPU per job, worker side plus Redis, product ÷ bare BullMQ: lower is better.
    if (row.bare_node_cpu_us !== undefined) {
      out[`cpu_per_job_in_process_vs_bare_bullmq_c${c}`] = r(Number(row.in_process_node_cpu_us) + Number(row.in_process_redis_cpu_us), Number(row.bare_node_cpu_us) + Number(row.bare_redis_cpu_us));
      out[`cpu_per_job_sandbox_vs_bare_bullmq_c${c}`] = r(Number(row.sandbox_node_cpu_us) + Number(row.sandbox_redis_cpu_us), Number(row.bare_node_cpu_us) + Number(row.bare_redis_cpu_us));
    }
    const celeryRate = celery ? (c === 2 ? celery.e2e_c2_per_s : c === 8 ? celery.e2e_c8_per_s : NaN) : NaN;
    if (Number.isFinite(celeryRate)) {
      out[`sandbox_vs_celery_c${c}`] = r(row.sandbox_jobs_per_s, celeryRate);
      out[`in_process_vs_celery_c${c}`] = r(row.in_process_jobs_per_s, celeryRate);
    }
  }
  if (celery && report.latency) {
    out.enqueue_to_start_p50_vs_celery = r(report.latency.enqueue_to_start_p50_ms, celery.latency_start_p50_ms);
    out.enqueue_to_start_p99_vs_celery = r(report.latency.enqueue_to_start_p99_ms, celery.latency_start_p99_ms);
    // Celery's "completion seen" is its client popping the task body's reply: ours is the same pop.
    if (Number.isFinite(celery.latency_done_p99_ms)) out.enqueue_to_reply_p99_vs_celery = r(report.latency.enqueue_to_reply_p99_ms, celery.latency_done_p99_ms);
  }
  if (celery && report.schedule) {
    out.schedule_lag_p50_vs_celery_beat = r(report.schedule.lag_p50_ms, celery.beat_drift_p50_ms);
    out.schedule_lag_p99_vs_celery_beat = r(report.schedule.lag_p99_ms, celery.beat_drift_p99_ms);
  }
  return out;
}

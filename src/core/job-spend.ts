import type { CycleResult, Usage } from './contracts.ts';

/** Two usages as one (a job's attempts): a cost or token count unknown in either is unknown in the sum. */
export function sumUsage(a: Usage, b: Usage): Usage {
  const unknown = a.cost_unknown || b.cost_unknown;
  const unreported = a.usage_unknown || b.usage_unknown;
  return {
    prompt_tokens: a.prompt_tokens + b.prompt_tokens,
    completion_tokens: a.completion_tokens + b.completion_tokens,
    total_tokens: a.total_tokens + b.total_tokens,
    cost_usd: Math.round((a.cost_usd + b.cost_usd) * 1e6) / 1e6,
    calls: a.calls + b.calls,
    ...(unknown ? { cost_unknown: true } : {}),
    ...(unreported ? { usage_unknown: true } : {}),
  };
}

/**
 * What a completed job spent on models across all its attempts: its `job_usage` when earlier attempts
 * made calls, else its `usage`. What a job cost is read through this (job views, the scorecard, the
 * cycle cost counter, the durable history, replays), so a retried cycle never shows its last attempt's
 * bill as the whole.
 */
export function jobSpend(result: Pick<CycleResult, 'usage' | 'job_usage'>): Usage {
  return result.job_usage ?? result.usage;
}

import { existsSync } from 'node:fs';
import { z } from 'zod';

/** Thrown when an environment variable is invalid; the message names the variable. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const boolFlag = z
  .enum(['1', '0', 'true', 'false', 'yes', 'no', 'on', 'off', ''])
  .transform((v) => ['1', 'true', 'yes', 'on'].includes(v));

const positiveInt = z.coerce.number().int().positive();

const envSchema = z.object({
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'must start with redis:// or rediss://')
    .default('redis://127.0.0.1:6379'),
  QUEUE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, "_", "." or "-" only (1-64 chars)')
    .default('tradeloop'),
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  SCHEDULES_FILE: z.string().min(1).default('./schedules.yaml'),
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  LOG_FORMAT: z.enum(['auto', 'json', 'pretty']).default('auto'),
  WORKER_CONCURRENCY: positiveInt.max(256).default(2),
  /** Run cycles in child processes (hard time limit, recycling, crash isolation); 0 runs them in the worker process. */
  WORKER_SANDBOX: boolFlag.default(true),
  WORKER_MAX_JOBS_PER_CHILD: positiveInt.default(50),
  WORKER_SHUTDOWN_MS: positiveInt.default(30_000),
  WORKER_HEARTBEAT_MS: positiveInt.default(5_000),
  /** BullMQ job lock: a worker that stops renewing it for this long is considered crashed. */
  WORKER_LOCK_MS: positiveInt.default(30_000),
  WORKER_STALLED_INTERVAL_MS: positiveInt.default(30_000),
  /** How many times a job may be recovered from a crashed worker before it fails. */
  WORKER_MAX_STALLED: z.coerce.number().int().min(0).max(100).default(1),
  /** Override the queues' time limits and retry settings (defaults in src/core/queues.ts). */
  CYCLE_SOFT_TIME_LIMIT_MS: positiveInt.optional(),
  CYCLE_HARD_TIME_LIMIT_MS: positiveInt.optional(),
  CYCLE_ATTEMPTS: positiveInt.max(20).optional(),
  CYCLE_BACKOFF_MS: positiveInt.optional(),
  CYCLE_BACKOFF_CAP_MS: positiveInt.optional(),
  /** Outbound LLM/data calls allowed per minute per queue, across all workers. */
  CALLS_PER_MINUTE: positiveInt.optional(),
  /** A module exporting `runCycle(job, ctx)` used instead of the built-in trading cycle (benchmarks, custom engines). */
  CYCLE_MODULE: z.string().min(1).optional(),
  RESULTS_DIR: z.string().min(1).default('./results'),
  /** How soon another process resumes a replay whose coordinator died (its Redis lease TTL). */
  REPLAY_LEASE_MS: positiveInt.min(1_000).default(10_000),
  DASHBOARD_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  DASHBOARD_READONLY: boolFlag.default(false),
  METRICS_PUBLIC: boolFlag.default(true),
  MARKET_DATA: z.enum(['auto', 'yahoo', 'alpaca', 'simulated']).default('auto'),
  OPENAI_API_KEY: z.string().min(1).optional(),
  OPENAI_BASE_URL: z.url().optional(),
  /** JSON price overrides, USD per million tokens: {"model":{"input":n,"output":n}}. */
  LLM_PRICES: z
    .string()
    .optional()
    .refine((s) => {
      if (!s) return true;
      try {
        return typeof JSON.parse(s) === 'object';
      } catch {
        return false;
      }
    }, 'must be JSON like {"gpt-4o":{"input":2.5,"output":10}}'),
  ALPACA_API_KEY_ID: z.string().min(1).optional(),
  ALPACA_API_SECRET_KEY: z.string().min(1).optional(),
  ALPACA_DATA_URL: z.url().default('https://data.alpaca.markets'),
  /** Extra one-off market closures, e.g. "2025-01-09,2026-03-02". */
  MARKET_CLOSURES: z
    .string()
    .default('')
    .transform((s) => s.split(',').map((d) => d.trim()).filter(Boolean))
    .pipe(z.array(z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'dates must be YYYY-MM-DD, comma separated'))),
});

export type Config = z.infer<typeof envSchema>;

/**
 * Reads and validates configuration from an environment object.
 * Empty strings count as unset so `FOO=` in a .env file falls back to the default.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const cleaned: Record<string, string> = {};
  for (const key of Object.keys(envSchema.shape)) {
    const value = env[key];
    if (value !== undefined && value !== '') cleaned[key] = value;
  }
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0] ?? '(env)');
      const shown = name.endsWith('TOKEN') || name.endsWith('KEY') ? '(hidden)' : JSON.stringify(cleaned[name]);
      return `  ${name}=${shown}: ${issue.message}`;
    });
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  return parsed.data;
}

/** Loads `.env` from the working directory into process.env (existing variables win). */
export function loadDotEnv(path = '.env'): void {
  if (existsSync(path)) process.loadEnvFile(path);
}

export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\./.test(host);
}

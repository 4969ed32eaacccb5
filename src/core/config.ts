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

const hostList = z
  .string()
  .transform((s) => s.split(',').map((h) => h.trim()).filter(Boolean))
  .pipe(z.array(z.string().regex(/^[A-Za-z0-9.:[\]-]+:\d{1,5}$/, 'must be host:port, comma separated')).min(1))
  .transform((list) => list.map((h) => ({ host: h.slice(0, h.lastIndexOf(':')).replace(/^\[|\]$/g, ''), port: Number(h.slice(h.lastIndexOf(':') + 1)) })));

const readableFile = z.string().refine((p) => existsSync(p), 'file not found');

const envSchema = z.object({
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'must start with redis:// or rediss://')
    .default('redis://127.0.0.1:6379'),
  QUEUE_PREFIX: z
    .string()
    // An optional leading {hash tag} keeps every key of an install in one Redis Cluster slot.
    .regex(/^(?=.{1,64}$)(\{[A-Za-z0-9_.-]+\})?[A-Za-z0-9_.-]*$/, 'letters, digits, "_", "." or "-" only, optionally starting with a {hash tag} (1-64 chars)')
    .default('tradeloop'),
  /** Sentinel mode: `host:port,…` of the sentinels; REDIS_URL then gives only credentials, database and TLS (rediss://). */
  REDIS_SENTINELS: hostList.optional(),
  REDIS_SENTINEL_NAME: z.string().min(1).default('mymaster'),
  REDIS_SENTINEL_USERNAME: z.string().min(1).optional(),
  REDIS_SENTINEL_PASSWORD: z.string().min(1).optional(),
  /** Cluster mode: `host:port,…` of some cluster nodes (the rest are discovered). */
  REDIS_CLUSTER_NODES: hostList.optional(),
  /** ACL user and password; they override any given in REDIS_URL. */
  REDIS_USERNAME: z.string().min(1).optional(),
  REDIS_PASSWORD: z.string().min(1).optional(),
  /** PEM files for TLS (rediss://, or any mode with these set): a private CA, and a client certificate and key. */
  REDIS_TLS_CA: readableFile.optional(),
  REDIS_TLS_CERT: readableFile.optional(),
  REDIS_TLS_KEY: readableFile.optional(),
  /** Replicas that must confirm (WAIT) an API-enqueued job before it is acknowledged; default 1 with sentinels, else 0. */
  REDIS_ACK_REPLICAS: z.coerce.number().int().min(0).max(16).optional(),
  REDIS_ACK_TIMEOUT_MS: positiveInt.max(60_000).default(1_000),
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

/** Rules between variables: one deployment mode, a Cluster needs a hash-tagged prefix, a client cert needs its key. */
const configSchema = envSchema.superRefine((c, ctx) => {
  if (c.REDIS_SENTINELS && c.REDIS_CLUSTER_NODES) {
    ctx.addIssue({ code: 'custom', path: ['REDIS_CLUSTER_NODES'], message: 'set either REDIS_SENTINELS or REDIS_CLUSTER_NODES, not both' });
  }
  if (c.REDIS_CLUSTER_NODES && !/^\{[^}]+\}/.test(c.QUEUE_PREFIX)) {
    ctx.addIssue({ code: 'custom', path: ['QUEUE_PREFIX'], message: `must start with a {hash tag} in Cluster mode, e.g. {${c.QUEUE_PREFIX}}, so every key shares one slot` });
  }
  if (Boolean(c.REDIS_TLS_CERT) !== Boolean(c.REDIS_TLS_KEY)) {
    ctx.addIssue({ code: 'custom', path: [c.REDIS_TLS_CERT ? 'REDIS_TLS_KEY' : 'REDIS_TLS_CERT'], message: 'REDIS_TLS_CERT and REDIS_TLS_KEY go together' });
  }
});

export type Config = z.infer<typeof envSchema>;

const SECRET_NAME = /(TOKEN|KEY|PASSWORD)$|^(REDIS_URL|DATABASE_URL)$/;

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
  const parsed = configSchema.safeParse(cleaned);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0] ?? '(env)');
      const shown = SECRET_NAME.test(name) ? '(hidden)' : JSON.stringify(cleaned[name]);
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

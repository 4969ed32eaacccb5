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
  REDIS_ACK_REPLICAS: z
    .string()
    .trim()
    .regex(/^(all|[0-9]|1[0-6])$/, 'must be "all" or a number of replicas from 0 to 16')
    .transform((v): number | 'all' => (v === 'all' ? 'all' : Number(v)))
    .optional(),
  REDIS_ACK_TIMEOUT_MS: positiveInt.max(60_000).default(1_000),
  /** Durable history: a PostgreSQL connection string; unset keeps history in Redis and the result files only. */
  DATABASE_URL: z
    .string()
    .refine((s) => {
      try {
        const u = new URL(s);
        return (u.protocol === 'postgres:' || u.protocol === 'postgresql:') && u.hostname !== '';
      } catch {
        return false;
      }
    }, 'must be a URL like postgres://user:password@host:5432/database')
    .optional(),
  /** Durable history older than this many days is deleted (hourly, by the worker draining the outbox); 0 keeps it all. */
  HISTORY_RETENTION_DAYS: z.coerce.number().int().min(0).max(36_500).default(0),
  /** The PostgreSQL schema the history tables live in (created by the migrations). */
  DATABASE_SCHEMA: z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, 'lowercase letters, digits and "_" (max 63), starting with a letter or "_"').default('tradeloop'),
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  SCHEDULES_FILE: z.string().min(1).default('./schedules.yaml'),
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  LOG_FORMAT: z.enum(['auto', 'json', 'pretty']).default('auto'),
  WORKER_CONCURRENCY: positiveInt.max(256).default(2),
  /** Run cycles in child processes (hard time limit, recycling, crash isolation); 0 runs them in the worker process. */
  WORKER_SANDBOX: boolFlag.default(true),
  /**
   * A sandbox child is replaced after this many cycles. A start costs a few tenths of a CPU second
   * (Node and the cycle's modules), so at 1 000 no-op cycles it was a third of the sandbox's CPU per
   * job; the memory cap below bounds a leaking child either way.
   */
  WORKER_MAX_JOBS_PER_CHILD: positiveInt.default(10_000),
  /** A sandbox child above this resident memory after a cycle (read at most every 100 ms) is replaced; 0 turns the cap off. */
  WORKER_MAX_CHILD_MEMORY_MB: z.coerce.number().int().min(0).default(512),
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
  /** A second token that can read everything and change nothing (Prometheus, a wall screen). */
  DASHBOARD_READ_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  DASHBOARD_READONLY: boolFlag.default(false),
  /** /metrics without the token even when one is set (only when given explicitly). */
  METRICS_PUBLIC: boolFlag.default(false),
  /** Extra host names the dashboard answers to (loopback names and IP addresses always work), e.g. "tradeloop.example.com". */
  ALLOWED_HOSTS: z
    .string()
    .default('')
    .transform((s) => s.split(',').map((h) => h.trim().toLowerCase()).filter(Boolean))
    .pipe(z.array(z.string().regex(/^(\*\.)?[a-z0-9.-]+$/, 'host names only (no scheme or port), comma separated; "*.example.com" for subdomains'))),
  /** Behind a reverse proxy: how far to trust X-Forwarded-* ("1" = one proxy hop, or addresses/subnets like "loopback,10.0.0.0/8"). */
  TRUST_PROXY: z
    .string()
    .default('0')
    .transform((s): false | number | string[] => {
      const v = s.trim().toLowerCase();
      if (['0', 'false', 'no', 'off'].includes(v)) return false;
      if (['true', 'yes', 'on'].includes(v)) return 1;
      if (/^\d+$/.test(v)) return Number(v);
      return v.split(',').map((x) => x.trim()).filter(Boolean);
    })
    .pipe(z.union([z.literal(false), z.number().int().min(1).max(10), z.array(z.string().regex(/^[0-9a-f:./]+$|^(loopback|linklocal|uniquelocal)$/, 'a hop count, or addresses/subnets (loopback, linklocal, uniquelocal, 10.0.0.0/8 …)')).min(1)])),
  /** Serve everything under this path prefix (a proxy forwarding https://host/tradeloop/ → BASE_PATH=/tradeloop). */
  BASE_PATH: z
    .string()
    .default('')
    .transform((s) => s.replace(/\/+$/, ''))
    .pipe(z.union([z.literal(''), z.string().regex(/^(\/[A-Za-z0-9._~-]+)+$/, 'must look like /tradeloop (letters, digits, "._~-" segments, no trailing slash)')])),
  /** How long a dashboard login lasts. */
  SESSION_TTL_HOURS: positiveInt.max(24 * 90).default(168),
  /** Failed logins / bad tokens allowed per client address per 15 minutes before 429. */
  AUTH_MAX_FAILURES: positiveInt.max(10_000).default(10),
  /** Cycles one client may create per minute through the API (jobs and schedule triggers). */
  JOBS_PER_MINUTE: positiveInt.max(100_000).default(30),
  /** API job creation is refused while this many jobs wait in the target queue. */
  MAX_QUEUE_DEPTH: positiveInt.max(10_000_000).default(1_000),
  /** Live event streams open at once; each may buffer this much for a slow reader before it is dropped. */
  SSE_MAX_CLIENTS: positiveInt.max(10_000).default(256),
  SSE_MAX_BUFFER_BYTES: positiveInt.default(1_048_576),
  /** Retention: scored decisions kept per agent, paper trades kept per agent, job index entries per list. */
  SCORECARD_RETAIN_DAYS: positiveInt.max(36_500).default(400),
  PORTFOLIO_TRADES_KEEP: positiveInt.default(10_000),
  JOB_INDEX_KEEP: positiveInt.default(100_000),
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
  /** Social posts for the LLM desk's sentiment analyst (keyless); `none` skips that analyst's input. */
  SOCIAL_SOURCE: z.enum(['stocktwits', 'none']).default('stocktwits'),
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

const SECRET_NAME = /TOKEN|KEY|SECRET|PASSWORD|^(REDIS_URL|DATABASE_URL)$/;

/** Any `user:password@` in a URL-like value, with the password masked (even when the URL does not parse). */
export function withoutPassword(value: string): string {
  return value.replace(/(\/\/[^/@:\s]*):[^/\s]*@/g, '$1:***@');
}

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
  if (parsed.success && parsed.data.DASHBOARD_READ_TOKEN) {
    const problem = !parsed.data.DASHBOARD_TOKEN ? 'needs DASHBOARD_TOKEN too (the read token only narrows access)' : parsed.data.DASHBOARD_READ_TOKEN === parsed.data.DASHBOARD_TOKEN ? 'must differ from DASHBOARD_TOKEN' : null;
    if (problem) throw new ConfigError(`Invalid configuration:\n  DASHBOARD_READ_TOKEN=(hidden): ${problem}`);
  }
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0] ?? '(env)');
      const shown = SECRET_NAME.test(name) ? '(hidden)' : JSON.stringify(withoutPassword(cleaned[name] ?? ''));
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

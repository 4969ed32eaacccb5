import type { Redis } from 'ioredis';
import {
  assertNoEviction,
  closeQueues,
  ConfigError,
  createRedisConnection,
  describeRedis,
  loadConfig,
  openQueues,
  productKeys,
  type Config,
  type ProductKeys,
  type QueueName,
} from '../core/index.ts';
import type { Queue } from 'bullmq';
import { embeddedRedisUrl } from '../launcher/index.ts';
import { EXIT, type CliIO } from './cli-command.ts';

export interface CliContext {
  config: Config;
  redis: Redis;
  keys: ProductKeys;
  queues: Record<QueueName, Queue>;
  close(): Promise<void>;
}

/** Thrown to end a command with an exit code and a message (no stack trace for the user). */
export class CliExit extends Error {
  constructor(
    public readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Config and a Redis connection for a command. With REDIS_URL unset and a private Redis started by
 * `npm start` in this directory, that one is used.
 */
export async function openCli(io: CliIO): Promise<CliContext> {
  const env = { ...io.env };
  if (!env.REDIS_URL) {
    const embedded = embeddedRedisUrl('var/redis');
    if (embedded) env.REDIS_URL = embedded;
  }
  let config: Config;
  try {
    config = loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) throw new CliExit(EXIT.usage, err.message);
    throw err;
  }
  const redis = createRedisConnection(config, 'producer');
  const ready = await new Promise<boolean>((resolve) => {
    if (redis.status === 'ready') return resolve(true);
    const timer = setTimeout(() => resolve(false), 3_000);
    redis.once('ready', () => (clearTimeout(timer), resolve(true)));
  });
  if (!ready) {
    redis.disconnect();
    throw new CliExit(EXIT.unavailable, `cannot reach Redis at ${describeRedis(config)} (set REDIS_URL, or start the product with npm start)`);
  }
  try {
    await assertNoEviction(redis, config.REDIS_URL);
  } catch (err) {
    redis.disconnect();
    if (err instanceof ConfigError) throw new CliExit(EXIT.unavailable, err.message);
    throw err;
  }
  const queues = openQueues(redis, config.QUEUE_PREFIX);
  return {
    config,
    redis,
    keys: productKeys(config.QUEUE_PREFIX),
    queues,
    async close() {
      await closeQueues(queues);
      redis.disconnect();
    },
  };
}

/** Runs a command body with a context, turning CliExit into its code and message. */
export async function withCli(io: CliIO, body: (ctx: CliContext) => Promise<number>): Promise<number> {
  let ctx: CliContext | null = null;
  try {
    ctx = await openCli(io);
    return await body(ctx);
  } catch (err) {
    if (err instanceof CliExit) {
      io.stderr(`tradeloop: ${err.message}\n`);
      return err.code;
    }
    throw err;
  } finally {
    await ctx?.close();
  }
}

/** Plain aligned text table. */
export function table(headers: string[], rows: Array<Array<string | number>>): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells.map((r) => r.map((c, i) => (c ?? '').padEnd(widths[i]!)).join('  ').trimEnd()).join('\n') + '\n';
}

export function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

/** A `--timeout SECONDS` style value: a positive number of seconds (the fallback when absent), else a usage message. */
export function secondsFlag(args: string[], name: string, fallback: number): { seconds: number } | { error: string } {
  const raw = flag(args, name);
  if (raw === undefined) return { seconds: fallback };
  const seconds = Number(raw);
  return Number.isFinite(seconds) && seconds > 0 ? { seconds } : { error: `${name} must be a positive number of seconds, got "${raw}"` };
}

export const nyTime = (iso: string | null | undefined) =>
  iso ? new Date(iso).toLocaleString('en-US', { timeZone: 'America/New_York', month: 'short', day: '2-digit', hour: '2-digit', minute: '2-digit', hour12: false }) + ' ET' : '—';

import { ConfigError, loadConfig, loadDotEnv, type Config } from './config.ts';
import { createLogger, type Logger } from './logger.ts';
import { checkEvictionPolicy } from './redis-connection.ts';

export interface RunningService {
  /** Stops taking work and releases resources; must settle within the shutdown deadline. */
  stop(): Promise<void>;
}

/**
 * The shared entry of every long-running process: config validated up front with a readable
 * message, structured logs, and one graceful shutdown on SIGINT/SIGTERM (a second signal forces exit).
 */
export async function runService(
  name: string,
  start: (config: Config, logger: Logger) => Promise<RunningService>,
  opts: { shutdownDeadlineMs?: number } = {},
): Promise<void> {
  let config: Config;
  try {
    loadDotEnv();
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`tradeloop ${name}: ${err.message}\nSee .env.example and the configuration table in README.md.\n`);
      process.exit(2);
    }
    throw err;
  }
  const logger = createLogger(config, name);
  let service: RunningService;
  try {
    const policy = await checkEvictionPolicy(config);
    if (policy !== 'ok') logger.warn({ check: policy }, 'could not read Redis maxmemory-policy at start-up: it must be noeviction');
    service = await start(config, logger);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`tradeloop ${name}: ${err.message}\n`);
      process.exit(2);
    }
    logger.fatal({ err }, `${name} failed to start`);
    await new Promise((r) => setTimeout(r, 50));
    process.exit(1);
  }
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, `${name} shutting down`);
    const deadline = opts.shutdownDeadlineMs ?? 30_000;
    const timer = setTimeout(() => {
      logger.error({ deadlineMs: deadline }, 'shutdown deadline passed: exiting');
      process.exit(1);
    }, deadline + 5_000);
    timer.unref();
    service
      .stop()
      .then(() => {
        logger.info(`${name} stopped`);
        process.exit(0);
      })
      .catch((err: unknown) => {
        logger.error({ err }, 'error during shutdown');
        process.exit(1);
      });
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  // Under `npm start`, the launcher's IPC channel closes if it dies without warning: do not outlive it.
  if (process.env.TRADELOOP_SUPERVISED === '1' && process.connected) process.on('disconnect', () => shutdown('parent exited'));
  process.on('unhandledRejection', (err) => logger.error({ err }, 'unhandled rejection'));
}

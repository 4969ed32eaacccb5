import { afterAll } from 'vitest';
import { closeQueues, createRedisConnection, openQueues, productKeys, type Config } from '../../src/core/index.ts';
import { LiveEvents } from '../../src/dashboard/live-events.ts';
import { deletePrefix, silentLogger, testConfig, waitFor } from './redis-test-env.ts';

/**
 * What dashboard tests against real Redis share: a config of their own (own prefix) per app, a ready
 * producer connection with the queues on it, live events when asked, all closed after the file
 * (newest first) and the prefixes deleted.
 */
export function dashboardHarness(name: string) {
  const configs: Config[] = [];
  const closers: Array<() => Promise<void> | void> = [];
  afterAll(async () => {
    for (const c of closers.reverse()) await c();
    await Promise.all(configs.map((c) => deletePrefix(c.QUEUE_PREFIX)));
  });
  return {
    /** The config of the last app opened. */
    config: () => configs.at(-1)!,
    /** The dependencies `createApp` takes, on a fresh config named after the file. */
    async open(env: Record<string, string> = {}, opts: { live?: boolean } = {}) {
      const config = testConfig(name, env);
      configs.push(config);
      const redis = createRedisConnection(config, 'producer');
      await waitFor(() => redis.status === 'ready');
      const queues = openQueues(redis, config.QUEUE_PREFIX);
      const keys = productKeys(config.QUEUE_PREFIX);
      const live = opts.live ? new LiveEvents(config, keys, queues, silentLogger) : undefined;
      closers.push(async () => {
        await live?.close();
        await closeQueues(queues);
        redis.disconnect();
      });
      return { deps: { config, logger: silentLogger, redis, keys, queues, now: () => new Date() }, config, redis, keys, queues, live };
    },
    /** Run after the file, before the connections close. */
    onClose(close: () => Promise<void> | void) {
      closers.push(close);
    },
  };
}

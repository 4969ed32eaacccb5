import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach } from 'vitest';
import { closeQueues, createRedisConnection, openQueues, type Config } from '../../src/core/index.ts';
import { deletePrefix, testConfig, waitFor } from './redis-test-env.ts';

/**
 * What scheduler tests against real Redis share: a schedules file of their own and its config (own
 * prefix), connections, and whatever they start stopped after each test (newest first), the prefixes
 * deleted after the file.
 */
export function schedulerHarness() {
  const prefixes: string[] = [];
  const running: Array<{ stop(): Promise<void> }> = [];
  afterEach(async () => {
    for (const s of running.splice(0).reverse()) await s.stop();
  });
  afterAll(async () => {
    await Promise.all(prefixes.map((p) => deletePrefix(p)));
  });
  return {
    running,
    /** Writes `yaml` as the schedules file of a fresh config named `name`. */
    setup(name: string, yaml: string, env: Record<string, string> = {}): Config {
      const file = join(mkdtempSync(join(tmpdir(), `tl-${name}-`)), 'schedules.yaml');
      writeFileSync(file, yaml);
      const config = testConfig(name, { SCHEDULES_FILE: file, ...env });
      prefixes.push(config.QUEUE_PREFIX);
      return config;
    },
    /** Stopped after the test. */
    async started<T extends { stop(): Promise<void> }>(p: Promise<T> | T): Promise<T> {
      const s = await p;
      running.push(s);
      return s;
    },
    /** A ready producer connection and the queues on it, closed after the test. */
    async connect(config: Config) {
      const redis = createRedisConnection(config, 'producer');
      await waitFor(() => redis.status === 'ready');
      const queues = openQueues(redis, config.QUEUE_PREFIX);
      running.push({ stop: async () => (await closeQueues(queues), redis.disconnect()) });
      return { redis, queues };
    },
  };
}

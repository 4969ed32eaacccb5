import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // Finds or starts Redis and installs (as root) or names Chromium, redis-server and promtool.
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Tests share one Redis; each file isolates itself with its own QUEUE_PREFIX.
    pool: 'forks',
    fileParallelism: true,
    maxWorkers: 2,
  },
});

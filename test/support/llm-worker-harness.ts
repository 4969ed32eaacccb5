import { rmSync } from 'node:fs';
import { afterAll } from 'vitest';
import { closeQueues, createRedisConnection, openQueues, productKeys } from '../../src/core/index.ts';
import { createApp } from '../../src/dashboard/index.ts';
import { startWorkers, type WorkerService } from '../../src/tasks/index.ts';
import { startFakeOpenAI, type RecordedRequest, type FakeReply } from './fake-openai-server.ts';
import { deletePrefix, silentLogger, testConfig } from './redis-test-env.ts';

/**
 * What tests of the LLM desk through a real in-process worker share: the local OpenAI-compatible server
 * answering `handler`, a config pointing at it (own prefix, own results directory), a producer
 * connection with the queues, the API on them, and the teardown after the file.
 */
export async function llmWorkerHarness(name: string, handler: (req: RecordedRequest) => FakeReply | Promise<FakeReply>, env: Record<string, string> = {}) {
  const server = await startFakeOpenAI(handler);
  const config = testConfig(name, {
    OPENAI_BASE_URL: server.baseURL,
    OPENAI_API_KEY: 'test-key',
    WORKER_SANDBOX: '0',
    CALLS_PER_MINUTE: '1000',
    RESULTS_DIR: `/tmp/tradeloop-test-results/${name}-${process.pid}`,
    ...env,
  });
  const redis = createRedisConnection(config, 'producer');
  const queues = openQueues(redis, config.QUEUE_PREFIX);
  const keys = productKeys(config.QUEUE_PREFIX);
  let workers: WorkerService | undefined;
  afterAll(async () => {
    await workers?.stop();
    await closeQueues(queues);
    redis.disconnect();
    await server.close();
    await deletePrefix(config.QUEUE_PREFIX);
    rmSync(config.RESULTS_DIR, { recursive: true, force: true });
  });
  return {
    server,
    config,
    redis,
    queues,
    keys,
    app: () => createApp({ config, logger: silentLogger, redis, keys, queues, now: () => new Date() }),
    /** One in-process worker on the trading-cycle queue, one cycle at a time; stopped after the file. */
    async startWorker() {
      workers = await startWorkers(config, silentLogger, { queues: ['trading-cycle'], concurrency: 1, sandbox: false });
      return workers;
    },
  };
}

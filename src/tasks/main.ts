import { parseArgs } from 'node:util';
import { isQueueName, runService, type QueueName } from '../core/index.ts';
import { startWorkers } from './worker-service.ts';

const { values } = parseArgs({
  options: { queues: { type: 'string' }, concurrency: { type: 'string' } },
  allowPositionals: false,
});
const queues = values.queues?.split(',').map((q) => q.trim()).filter(Boolean);
for (const q of queues ?? []) {
  if (!isQueueName(q)) {
    process.stderr.write(`tradeloop worker: unknown queue "${q}" (known: trading-cycle, trading-cycle-priority)\n`);
    process.exit(2);
  }
}
const concurrency = values.concurrency === undefined ? undefined : Number(values.concurrency);
if (concurrency !== undefined && (!Number.isInteger(concurrency) || concurrency < 1)) {
  process.stderr.write(`tradeloop worker: --concurrency must be a positive integer, got "${values.concurrency}"\n`);
  process.exit(2);
}

await runService('worker', (config, logger) => startWorkers(config, logger, { queues: queues as QueueName[] | undefined, concurrency }), {
  shutdownDeadlineMs: Number(process.env.WORKER_SHUTDOWN_MS) || 30_000,
});

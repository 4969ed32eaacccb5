import { parseArgs } from 'node:util';
import { isQueueName, runService, type QueueName } from '../core/index.ts';
import { startWorkers } from './worker-service.ts';

function parseOptions() {
  try {
    return parseArgs({ options: { queues: { type: 'string' }, concurrency: { type: 'string' } }, allowPositionals: false }).values;
  } catch (err) {
    // A mistyped option is a usage error (exit 2) with one line, not a stack trace.
    process.stderr.write(`tradeloop worker: ${(err as Error).message.split('\n')[0]} (options: --queues q1,q2 --concurrency N)\n`);
    process.exit(2);
  }
}
const values = parseOptions();
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

// A bare BullMQ worker process for the bench: its processor returns at once (plain JavaScript, no loader).
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';

const connection = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: null });
const worker = new Worker(process.env.BARE_QUEUE ?? 'bare', async () => ({ ok: true }), {
  connection,
  prefix: process.env.BARE_PREFIX,
  concurrency: Number(process.env.BARE_CONCURRENCY ?? 1),
});
process.once('SIGTERM', async () => {
  await worker.close();
  connection.disconnect();
  process.exit(0);
});

import { QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import { createRedisConnection, QUEUE_NAMES, type Config, type Logger, type ProductKeys, type QueueName } from '../core/index.ts';
import type { QueueSet } from '../tasks/index.ts';
import { parseOutcomeStatus } from './outcome-status.ts';

export interface LiveEvent {
  type: string;
  at: string;
  [field: string]: unknown;
}

type Listener = (e: LiveEvent) => void;

/**
 * One QueueEvents per queue and one subscription to the product events channel, shared by every SSE
 * client and the metrics: job events become cycle.* events, product events pass through.
 */
export class LiveEvents {
  private readonly listeners = new Set<Listener>();
  private readonly queueEvents: QueueEvents[] = [];
  private readonly subscriber: Redis;
  private readonly subscribed: Promise<unknown>;
  /** BullMQ leaves a connection it was given open on close: ours are ended here. */
  private readonly connections: Redis[] = [];

  constructor(config: Config, private readonly keys: ProductKeys, private readonly queues: QueueSet, private readonly logger: Logger) {
    this.subscriber = createRedisConnection(config, 'worker');
    for (const name of QUEUE_NAMES) {
      const connection = createRedisConnection(config, 'worker');
      this.connections.push(connection);
      const qe = new QueueEvents(name, { connection, prefix: config.QUEUE_PREFIX });
      qe.on('error', () => {});
      qe.on('active', ({ jobId }) => void this.jobEvent('cycle.started', name, jobId));
      qe.on('progress', ({ jobId, data }) => void this.jobEvent('cycle.progress', name, jobId, { progress: data }));
      qe.on('completed', ({ jobId, returnvalue }) => {
        const status = parseOutcomeStatus(returnvalue);
        const type = status === 'skipped' ? 'cycle.skipped' : status === 'cancelled' ? 'cycle.failed' : 'cycle.completed';
        // Skips are also published by the worker with their reason; this one carries the job's fields.
        void this.jobEvent(type, name, jobId, { status });
      });
      qe.on('failed', ({ jobId, failedReason }) => void this.jobEvent('cycle.failed', name, jobId, { error: failedReason, status: failedReason.startsWith('cancelled') ? 'cancelled' : 'failed' }));
      this.queueEvents.push(qe);
    }
    this.subscribed = this.subscriber.subscribe(keys.eventsChannel).catch(() => undefined);
    this.subscriber.on('message', (_c, message: string) => {
      try {
        const e = JSON.parse(message) as LiveEvent;
        // cycle.skipped comes from QueueEvents (with the job); other product events are relayed as they are.
        if (e.type !== 'cycle.skipped') this.emit(e);
      } catch {
        // not ours
      }
    });
  }

  private async jobEvent(type: string, queue: QueueName, jobId: string, extra: Record<string, unknown> = {}) {
    let fields: Record<string, unknown> = {};
    try {
      const job = await this.queues[queue].getJob(jobId);
      const d = (job?.data ?? {}) as Record<string, unknown>;
      fields = { ticker: d.ticker, agent: d.agent, schedule_id: d.schedule_id ?? null, trigger: d.trigger };
      if (type === 'cycle.completed' || type === 'cycle.skipped') {
        const rv = job?.returnvalue as { result?: { decision?: string; confidence?: number }; reason?: string } | undefined;
        fields = { ...fields, decision: rv?.result?.decision, confidence: rv?.result?.confidence, reason: rv?.reason, duration_ms: job?.finishedOn && job.processedOn ? job.finishedOn - job.processedOn : null, processed_on: job?.processedOn, finished_on: job?.finishedOn };
      }
    } catch (err) {
      this.logger.debug({ err }, 'event enrichment failed');
    }
    this.emit({ type, at: new Date().toISOString(), job_id: jobId, queue, ...fields, ...extra });
  }

  private emit(e: LiveEvent) {
    for (const l of this.listeners) l(e);
  }

  /** Resolves once every source is connected (a terminal tail says so before the first event). */
  async ready(): Promise<void> {
    await Promise.all([this.subscribed, ...this.queueEvents.map((q) => q.waitUntilReady())]);
  }

  on(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.queueEvents.map((q) => q.close()));
    for (const c of this.connections) c.disconnect();
    this.subscriber.disconnect();
  }
}

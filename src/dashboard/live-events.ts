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

/** How long the sources outlive the last listener: a page reload reconnects within SSE's retry (3 s). */
export const LIVE_LINGER_MS = 30_000;

interface Sources {
  queueEvents: QueueEvents[];
  subscriber: Redis;
  /** BullMQ leaves a connection it was given open on close: ours are ended here. */
  connections: Redis[];
  ready: Promise<void>;
  /** Set by stop: a queue's events still being opened are dropped instead of started. */
  stopped: boolean;
}

/**
 * One QueueEvents per queue and one subscription to the product events channel, shared by every SSE
 * client: job events become cycle.* events, product events pass through. The sources run only while
 * someone listens (and LIVE_LINGER_MS after): a dashboard nobody watches is not woken, nor reads the
 * job, at each step of every cycle.
 */
export class LiveEvents {
  private readonly listeners = new Set<Listener>();
  private sources: Sources | null = null;
  private stopTimer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(private readonly config: Config, private readonly keys: ProductKeys, private readonly queues: QueueSet, private readonly logger: Logger, private readonly lingerMs = LIVE_LINGER_MS) {}

  /** True while the Redis sources run (for tests and the linger). */
  get running(): boolean {
    return this.sources !== null;
  }

  private start(): Sources {
    if (this.stopTimer) clearTimeout(this.stopTimer);
    this.stopTimer = null;
    if (this.sources) return this.sources;
    const connections: Redis[] = [];
    const queueEvents: QueueEvents[] = [];
    const subscriber = createRedisConnection(this.config, 'worker');
    const sources: Sources = { queueEvents, connections, subscriber, ready: Promise.resolve(), stopped: false };
    const subscribed = subscriber.subscribe(this.keys.eventsChannel).catch(() => undefined);
    subscriber.on('message', (_c, message: string) => {
      try {
        const e = JSON.parse(message) as LiveEvent;
        // cycle.skipped comes from QueueEvents (with the job); other product events are relayed as they are.
        if (e.type !== 'cycle.skipped') this.emit(e);
      } catch {
        // not ours
      }
    });
    const opened = QUEUE_NAMES.map(async (name) => {
      const connection = createRedisConnection(this.config, 'worker');
      connections.push(connection);
      // From the stream's newest entry as it is now, not from whenever the first read lands: an event
      // added after ready() resolves is delivered even if it beats that read. Unreadable: from whatever
      // is newest when the first read lands, never the whole stream.
      const lastEventId = await connection.xrevrange(this.queues[name].keys.events!, '+', '-', 'COUNT', 1).then((r) => r[0]?.[0] ?? '0-0', () => '$');
      if (sources.stopped) return;
      const qe = new QueueEvents(name, { connection, prefix: this.config.QUEUE_PREFIX, lastEventId });
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
      queueEvents.push(qe);
      await qe.waitUntilReady();
    });
    sources.ready = Promise.all([subscribed, ...opened]).then(() => undefined);
    sources.ready.catch(() => undefined);
    this.sources = sources;
    return sources;
  }

  private async stop(): Promise<void> {
    if (this.stopTimer) clearTimeout(this.stopTimer);
    this.stopTimer = null;
    const sources = this.sources;
    this.sources = null;
    if (!sources) return;
    // Not waiting for the sources to be ready: with Redis away that could be for ever (a shutdown must not hang).
    sources.stopped = true;
    await Promise.allSettled(sources.queueEvents.map((q) => q.close()));
    for (const c of sources.connections) c.disconnect();
    sources.subscriber.disconnect();
  }

  private async jobEvent(type: string, queue: QueueName, jobId: string, extra: Record<string, unknown> = {}) {
    // Lingering with nobody listening: the job is not read for no one.
    if (this.listeners.size === 0) return;
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

  /** Starts the sources if need be; resolves once every one is connected (a terminal tail says so before the first event). */
  async ready(): Promise<void> {
    if (this.closed) return;
    await this.start().ready;
  }

  on(listener: Listener): () => void {
    this.listeners.add(listener);
    if (!this.closed) this.start();
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0 && this.sources && !this.stopTimer) {
        this.stopTimer = setTimeout(() => void this.stop(), this.lingerMs);
        this.stopTimer.unref();
      }
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.stop();
  }
}

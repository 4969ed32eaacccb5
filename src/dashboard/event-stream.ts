import type { RequestHandler } from 'express';
import type { Logger } from '../core/index.ts';
import { HttpError } from './http-errors.ts';
import type { LiveEvents } from './live-events.ts';

export interface EventStreamLimits {
  /** Streams open at once; one more is refused with 503. */
  maxClients: number;
  /** Bytes a stream may have waiting for a slow reader before it is closed (the browser reconnects). */
  maxBufferBytes: number;
  logger: Logger;
}

/** How long a new stream waits for the live sources before it says it is connected anyway (Redis away). */
const READY_WAIT_MS = 2_000;

/**
 * Server-sent events: one stream per client, fed by the shared LiveEvents. A reader that does not keep
 * up is dropped once its socket buffer passes the limit, so one slow client can never grow our memory.
 */
export function eventStream(live: Pick<LiveEvents, 'on'> & Partial<Pick<LiveEvents, 'ready'>>, limits: EventStreamLimits): RequestHandler {
  let open = 0;
  return (req, res) => {
    if (open >= limits.maxClients) {
      throw Object.assign(new HttpError(503, 'too many live event streams', [{ field: '(stream)', message: `at most ${limits.maxClients} at once (SSE_MAX_CLIENTS)` }]), { retryAfterSeconds: 10 });
    }
    open++;
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache, no-transform', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
    let closed = false;
    const send = (chunk: string) => {
      if (closed) return;
      if (res.writableLength + chunk.length > limits.maxBufferBytes) {
        limits.logger.warn({ buffered: res.writableLength, limit: limits.maxBufferBytes }, 'live events: dropping a reader that does not keep up');
        close();
        res.destroy();
        return;
      }
      res.write(chunk);
    };
    const off = live.on((e) => send(`event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`));
    const beat = setInterval(() => send(`: keep-alive ${Date.now()}\n\n`), 15_000);
    const close = () => {
      if (closed) return;
      closed = true;
      open--;
      off();
      clearInterval(beat);
    };
    req.on('close', close);
    res.on('close', close);
    send(`retry: 3000\n\n`);
    // ": connected" once the sources read Redis (they start with the first reader): what happens after it is delivered.
    let waited: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((r) => (waited = setTimeout(r, READY_WAIT_MS)));
    void Promise.race([Promise.resolve(live.ready?.()).catch(() => undefined), timeout]).then(() => {
      clearTimeout(waited);
      send(`: connected\n\n`);
    });
  };
}

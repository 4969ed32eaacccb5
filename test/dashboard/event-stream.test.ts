import type { AddressInfo } from 'node:net';
import { connect, type Socket } from 'node:net';
import express from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import { eventStream } from '../../src/dashboard/event-stream.ts';
import { errorHandler } from '../../src/dashboard/http-errors.ts';
import type { LiveEvent } from '../../src/dashboard/live-events.ts';
import { silentLogger, waitFor } from '../support/redis-test-env.ts';

/** The event source every stream listens to (LiveEvents' `on`), driven by the test. */
class Events {
  readonly listeners = new Set<(e: LiveEvent) => void>();
  on(l: (e: LiveEvent) => void) {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
  emit(e: LiveEvent) {
    for (const l of this.listeners) l(e);
  }
}

const cleanups: Array<() => void> = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

async function serve(maxClients: number, maxBufferBytes: number) {
  const events = new Events();
  const app = express();
  app.get('/events', eventStream(events, { maxClients, maxBufferBytes, logger: silentLogger }));
  app.use(errorHandler(silentLogger));
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const port = (server.address() as AddressInfo).port;
  cleanups.push(() => {
    server.closeAllConnections();
    server.close();
  });
  return { events, port };
}

/** A reader that connects and then never reads: its bytes pile up unless the server drops it. */
function idleReader(port: number): Promise<{ socket: Socket; head: string }> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => socket.write('GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'));
    socket.once('data', (b) => {
      socket.pause();
      resolve({ socket, head: b.toString() });
    });
    cleanups.push(() => socket.destroy());
  });
}

const big = (i: number): LiveEvent => ({ type: 'cycle.progress', at: new Date().toISOString(), seq: i, pad: 'x'.repeat(4096) });

describe('live event streams', () => {
  it('says it is connected only once the live sources are ready', async () => {
    let ready!: () => void;
    const events = Object.assign(new Events(), { ready: () => new Promise<void>((r) => (ready = r)) });
    const app = express();
    app.get('/events', eventStream(events, { maxClients: 5, maxBufferBytes: 1 << 20, logger: silentLogger }));
    const server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    cleanups.push(() => (server.closeAllConnections(), server.close()));
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/events`);
    const reader = res.body!.getReader();
    let text = new TextDecoder().decode((await reader.read()).value);
    expect(text).toContain('retry: 3000');
    expect(text).not.toContain(': connected');
    ready();
    while (!text.includes(': connected')) text += new TextDecoder().decode((await reader.read()).value);
    await reader.cancel();
  });

  it('refuses streams beyond the client cap with 503 and Retry-After', async () => {
    const { port } = await serve(2, 1 << 20);
    await idleReader(port);
    await idleReader(port);
    const third = await fetch(`http://127.0.0.1:${port}/events`);
    expect(third.status).toBe(503);
    expect(third.headers.get('retry-after')).toBe('10');
    expect(((await third.json()) as { details: Array<{ message: string }> }).details[0]!.message).toMatch(/SSE_MAX_CLIENTS/);
  });

  it('drops a reader that does not keep up, freeing its slot; a reading client keeps every event', async () => {
    const { events, port } = await serve(2, 64 * 1024);
    const slow = await idleReader(port);
    expect(slow.head).toMatch(/^HTTP\/1.1 200/);
    const fast = await fetch(`http://127.0.0.1:${port}/events`);
    const reader = fast.body!.getReader();
    let text = '';
    const decoder = new TextDecoder();
    const reading = (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        text += decoder.decode(value, { stream: true });
      }
    })();
    const received = () => (text.match(/event: cycle\.progress/g) ?? []).length;
    // 4 MB for a reader that never reads: far past its 64 KB allowance and the kernel's buffers.
    for (let i = 0; i < 1000; i++) {
      events.emit(big(i));
      if (i % 4 === 0) await new Promise((r) => setTimeout(r, 2));
    }
    await waitFor(() => events.listeners.size === 1, 10_000);
    await waitFor(() => received() === 1000, 10_000);
    // The slot is free again.
    const again = await fetch(`http://127.0.0.1:${port}/events`);
    expect(again.status).toBe(200);
    await again.body?.cancel();
    await reader.cancel();
    await reading;
  });

  it('keeps memory flat with 200 idle readers under a stream of events', async () => {
    const { events, port } = await serve(256, 64 * 1024);
    const readers = await Promise.all(Array.from({ length: 200 }, () => idleReader(port)));
    expect(readers.every((r) => r.head.startsWith('HTTP/1.1 200'))).toBe(true);
    global.gc?.();
    const before = process.memoryUsage();
    // 200 readers × 2 MB would be 400 MB held for them without the per-client limit.
    for (let i = 0; i < 500; i++) {
      events.emit(big(i));
      if (i % 25 === 0) await new Promise((r) => setTimeout(r, 5));
    }
    await waitFor(() => events.listeners.size === 0, 20_000);
    global.gc?.();
    const after = process.memoryUsage();
    const grownMb = (after.heapUsed + after.external + after.arrayBuffers - (before.heapUsed + before.external + before.arrayBuffers)) / 1e6;
    expect(grownMb).toBeLessThan(100);
  });
});

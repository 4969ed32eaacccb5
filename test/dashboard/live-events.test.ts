import net from 'node:net';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { closeQueues, createRedisConnection, openQueues, productKeys } from '../../src/core/index.ts';
import { createApp, LiveEvents, type LiveEvent } from '../../src/dashboard/index.ts';
import { startWorkers } from '../../src/tasks/index.ts';
import { dashboardHarness } from '../support/dashboard-harness.ts';
import { silentLogger, testConfig, waitFor } from '../support/redis-test-env.ts';

const harness = dashboardHarness('live-events');

describe('live events run only while someone listens', () => {
  it('reads no job events without a listener, delivers from the first one on, and stops after the last leaves', async () => {
    const { deps, config, keys, queues } = await harness.open();
    const live = new LiveEvents(config, keys, queues, silentLogger, 300);
    harness.onClose(() => live.close());
    const worker = await startWorkers(config, silentLogger, { sandbox: false });
    harness.onClose(() => worker.stop());
    const app = createApp(deps, { live });
    const cycle = async () => {
      const posted = await request(app).post('/api/jobs').send({ ticker: 'AMD' });
      expect(posted.status).toBe(202);
      await waitFor(async () => (await request(app).get(`/api/jobs/${posted.body.job_id}`)).body.status === 'completed', 15_000);
      return posted.body.job_id as string;
    };

    // Nobody listens: a whole cycle goes by without the sources running.
    const unwatched = await cycle();
    expect(live.running).toBe(false);

    // The first listener starts them; what happens once ready() resolves is delivered, what came before is not replayed.
    const events: LiveEvent[] = [];
    const off = live.on((e) => events.push(e));
    expect(live.running).toBe(true);
    await live.ready();
    const watched = await cycle();
    await waitFor(() => events.some((e) => e.type === 'cycle.completed' && e.job_id === watched), 10_000);
    expect(events.some((e) => e.type === 'cycle.started' && e.job_id === watched)).toBe(true);
    expect(events.find((e) => e.type === 'cycle.completed' && e.job_id === watched)).toMatchObject({ ticker: 'AMD', agent: 'quant' });
    expect(events.some((e) => e.job_id === unwatched)).toBe(false);

    // The last one leaves: the sources linger (a page reload comes back), then stop.
    off();
    expect(live.running).toBe(true);
    await waitFor(() => !live.running, 5_000);

    // And start again for the next reader.
    const again: LiveEvent[] = [];
    const offAgain = live.on((e) => again.push(e));
    await live.ready();
    const later = await cycle();
    await waitFor(() => again.some((e) => e.type === 'cycle.completed' && e.job_id === later), 10_000);
    expect(again.some((e) => e.job_id === watched)).toBe(false);
    offAgain();
  });

  it('closes at once when Redis never answered, without waiting for the sources to be ready', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    const config = testConfig('live-down', { REDIS_URL: `redis://127.0.0.1:${port}` });
    const keys = productKeys(config.QUEUE_PREFIX);
    const producer = createRedisConnection(config, 'producer');
    const queues = openQueues(producer, config.QUEUE_PREFIX);
    const live = new LiveEvents(config, keys, queues, silentLogger);
    live.on(() => undefined);
    let ready = false;
    void live.ready().then(() => (ready = true));
    await new Promise((r) => setTimeout(r, 300));
    expect(ready).toBe(false);
    // A shutdown must not hang on a Redis that is away: close settles, it does not wait for it.
    const closed = await Promise.race([live.close().then(() => 'closed'), new Promise((r) => setTimeout(() => r('still waiting'), 5_000))]);
    expect(closed).toBe('closed');
    expect(live.running).toBe(false);
    await closeQueues(queues).catch(() => undefined);
    producer.disconnect();
  });
});

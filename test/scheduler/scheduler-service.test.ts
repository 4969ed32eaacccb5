import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'bullmq';
import { DateTime } from 'luxon';
import request from 'supertest';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { closeQueues, createRedisConnection, openQueues, productKeys, readCounters, type Config } from '../../src/core/index.ts';
import { createApp } from '../../src/dashboard/index.ts';
import { openApiDocument } from '../../src/dashboard/openapi.ts';
import { readLoadStatus, startScheduler, type SchedulerService } from '../../src/scheduler/index.ts';
import { deletePrefix, silentLogger, testConfig, waitFor } from '../support/redis-test-env.ts';

const dirs: string[] = [];
const prefixes: string[] = [];
const running: Array<{ stop(): Promise<void> }> = [];

function setup(yaml: string, env: Record<string, string> = {}): Config & { file: string } {
  const dir = mkdtempSync(join(tmpdir(), 'tl-sched-'));
  dirs.push(dir);
  const file = join(dir, 'schedules.yaml');
  writeFileSync(file, yaml);
  const config = testConfig('scheduler', { SCHEDULES_FILE: file, ...env });
  prefixes.push(config.QUEUE_PREFIX);
  return Object.assign(config, { file });
}

async function start(config: Config, deps: Parameters<typeof startScheduler>[2] = {}): Promise<SchedulerService> {
  const s = await startScheduler(config, silentLogger, { tickMs: 200, ...deps });
  running.push(s);
  return s;
}

async function keysOf(s: SchedulerService): Promise<string[]> {
  return (await s.queues['trading-cycle'].getJobSchedulers(0, -1, true)).map((x) => x.key).sort();
}

afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.stop()));
});
afterAll(async () => {
  await Promise.all(prefixes.map((p) => deletePrefix(p)));
});

const ALWAYS = (id: string, every = '1h') => `  - { id: ${id}, agent: quant, ticker: SPY, every: ${every}, market_hours: always }\n`;

describe('scheduler service (real Redis, real BullMQ)', () => {
  it('arms a gated scheduler so BullMQ fires its first run exactly at the open', async () => {
    const config = setup(`schedules:\n  - { id: desk, agent: quant, ticker: SPY, every: 5m, market_hours: regular }\n  - { id: halfhour, agent: quant, ticker: QQQ, cron: "*/30 * * * *", market_hours: regular }\n`);
    // A Saturday a week ahead: the armed window is the following Monday's session, in the future.
    let sat = DateTime.now().setZone('America/New_York').plus({ days: 7 });
    while (sat.weekday !== 6) sat = sat.plus({ days: 1 });
    const fakeNow = sat.set({ hour: 12, minute: 0 }).toJSDate();
    const s = await start(config, { now: () => fakeNow, watch: false });
    const [every, cron] = await s.queues['trading-cycle'].getJobSchedulers(0, -1, true).then((l) => l.sort((a, b) => a.key.localeCompare(b.key)));
    let monday = sat.plus({ days: 2 }).set({ hour: 9, minute: 30, second: 0, millisecond: 0 });
    // (If that Monday is a holiday the calendar moves on; assert against the scheduler's own window.)
    monday = DateTime.fromMillis(every!.startDate!, { zone: 'America/New_York' });
    expect(monday.hour * 60 + monday.minute).toBe(9 * 60 + 30);
    expect(every!.next).toBe(every!.startDate);
    expect(every!.endDate).toBeLessThan(monday.set({ hour: 16, minute: 0 }).toMillis());
    expect(cron!.next).toBe(cron!.startDate! + 1);
    expect((await s.queues['trading-cycle'].getDelayed()).map((j) => j.id).sort()).toEqual([`repeat:desk:SPY:${every!.next}`, `repeat:halfhour:QQQ:${cron!.next}`]);
  });

  it('reloads a valid change within 2 s and keeps the last good schedule on an invalid one', async () => {
    const config = setup(`schedules:\n${ALWAYS('one')}`);
    const s = await start(config);
    expect(await keysOf(s)).toEqual(['one:SPY']);
    const changedAt = Date.now();
    writeFileSync(config.file, `schedules:\n${ALWAYS('one')}${ALWAYS('two')}`);
    await waitFor(async () => (await keysOf(s)).length === 2, 2_000);
    expect(Date.now() - changedAt).toBeLessThan(2_500);
    writeFileSync(config.file, `schedules:\n  - { id: one, agent: quant, ticker: SPY, every: soon }\n`);
    const redis = createRedisConnection(config, 'worker');
    const status = await waitFor(async () => {
      const st = await readLoadStatus(redis, productKeys(config.QUEUE_PREFIX));
      return st && !st.ok ? st : null;
    }, 3_000);
    expect(status.error).toMatch(/schedules\.yaml:2:\d+ schedules\[0\]\.every: invalid duration "soon"/);
    expect(await keysOf(s)).toEqual(['one:SPY', 'two:SPY']);
    const queues = openQueues(redis, config.QUEUE_PREFIX);
    const app = createApp({ config, logger: silentLogger, redis, keys: productKeys(config.QUEUE_PREFIX), queues, now: () => new Date() });
    const list = await request(app).get('/api/schedules').expect(200);
    expect(list.body.load_status).toMatchObject({ ok: false, schedules: 2, error: status.error });
    expect(list.body.schedules.map((x: { id: string }) => x.id)).toEqual(['one', 'two']);
    await closeQueues(queues);
    redis.disconnect();
  });

  it('pause/resume through the API removes and restores the scheduler, and survives a restart', async () => {
    const config = setup(`schedules:\n${ALWAYS('desk')}${ALWAYS('other')}`);
    let s = await start(config, { watch: false });
    const redis = createRedisConnection(config, 'producer');
    await waitFor(() => redis.status === 'ready');
    const queues = openQueues(redis, config.QUEUE_PREFIX);
    const app = createApp({ config, logger: silentLogger, redis, keys: productKeys(config.QUEUE_PREFIX), queues, now: () => new Date() });
    try {
      expect((await request(app).post('/api/schedules/nope/pause')).status).toBe(404);
      const paused = await request(app).post('/api/schedules/desk/pause');
      expect(paused.body).toMatchObject({ schedule_id: 'desk', paused: true, pause: { by: 'api' } });
      await waitFor(async () => (await keysOf(s)).join() === 'other:SPY', 3_000);
      await s.stop();
      running.splice(running.indexOf(s), 1);
      s = await start(config, { watch: false });
      expect(await keysOf(s)).toEqual(['other:SPY']);
      const list = await request(app).get('/api/schedules');
      const desk = list.body.schedules.find((x: { id: string }) => x.id === 'desk');
      expect(desk).toMatchObject({ paused: true, next_run: null, tickers: ['SPY'], every: '1h', market_hours: 'always' });
      await request(app).post('/api/schedules/desk/resume').expect(200);
      await waitFor(async () => (await keysOf(s)).length === 2, 3_000);
      const one = await request(app).get('/api/schedules/desk');
      expect(one.body.paused).toBe(false);
      // Every field answered is in the OpenAPI document.
      const schemas = openApiDocument().components.schemas as Record<string, { properties?: object; allOf?: Array<{ properties?: object }> }>;
      const listed = Object.keys(schemas.Schedule!.properties!);
      const detailed = [...listed, ...Object.keys(schemas.ScheduleDetail!.allOf![1]!.properties!)];
      for (const key of Object.keys(desk)) expect(listed, key).toContain(key);
      for (const key of Object.keys(one.body)) expect(detailed, key).toContain(key);
      expect(Date.parse(one.body.next_run)).not.toBeNaN();
    } finally {
      await closeQueues(queues);
      redis.disconnect();
    }
  });

  it('trigger enqueues a manual cycle per ticker on the priority queue; respect_market_hours answers 409 when closed', async () => {
    const config = setup(`schedules:\n  - { id: desk, agent: quant, tickers: [SPY, TSLA], every: 5m, market_hours: regular }\n`);
    await start(config, { watch: false });
    const redis = createRedisConnection(config, 'producer');
    await waitFor(() => redis.status === 'ready');
    const queues = openQueues(redis, config.QUEUE_PREFIX);
    const saturday = DateTime.fromISO('2026-11-28T12:00', { zone: 'America/New_York' }).toJSDate();
    const app = createApp({ config, logger: silentLogger, redis, keys: productKeys(config.QUEUE_PREFIX), queues, now: () => saturday });
    try {
      const res = await request(app).post('/api/schedules/desk/trigger').send({});
      expect(res.status).toBe(202);
      expect(res.body.job_ids).toHaveLength(2);
      expect(res.body.queue).toBe('trading-cycle-priority');
      const job = await queues['trading-cycle-priority'].getJob(res.body.job_ids[0]);
      expect(job?.data).toMatchObject({ trigger: 'manual', schedule_id: 'desk', market_hours: 'always' });
      const one = await request(app).post('/api/schedules/desk/trigger').send({ ticker: 'tsla' });
      expect(one.body.job_ids).toHaveLength(1);
      expect((await request(app).post('/api/schedules/desk/trigger').send({ ticker: 'AAPL' })).status).toBe(400);
      const closed = await request(app).post('/api/schedules/desk/trigger?respect_market_hours=1').send({});
      expect(closed.status).toBe(409);
      expect(closed.body.details[0].message).toContain('2026-11-30T14:30:00.000Z');
      // A value it does not know is a 400 naming it, not a cycle enqueued on a closed market.
      const typo = await request(app).post('/api/schedules/desk/trigger?respect_market_hours=yes').send({});
      expect(typo.status).toBe(400);
      expect(typo.body.details[0].field).toBe('respect_market_hours');
      expect((await request(app).post('/api/schedules/desk/trigger?respect_hours=1').send({})).body.details[0]).toMatchObject({ field: 'respect_hours', message: 'unknown field' });
    } finally {
      await closeQueues(queues);
      redis.disconnect();
    }
  });

  it('GET /api/market/status answers for now and for ?at=, 400 on a bad at', async () => {
    const config = setup('schedules: []\n');
    const redis = createRedisConnection(config, 'producer');
    await waitFor(() => redis.status === 'ready');
    const queues = openQueues(redis, config.QUEUE_PREFIX);
    const app = createApp({ config, logger: silentLogger, redis, keys: productKeys(config.QUEUE_PREFIX), queues, now: () => new Date() });
    try {
      const now = await request(app).get('/api/market/status');
      expect(now.status).toBe(200);
      expect(typeof now.body.open).toBe('boolean');
      const at = await request(app).get('/api/market/status').query({ at: '2026-11-27T10:00:00-05:00' });
      expect(at.body).toMatchObject({ open: true, session: 'regular', early_close: true, next_close: '2026-11-27T18:00:00.000Z' });
      const holiday = await request(app).get('/api/market/status').query({ at: '2026-12-25T10:00:00-05:00' });
      expect(holiday.body).toMatchObject({ open: false, holiday: 'Christmas Day' });
      // At a session's opening instant the market is open and the next open is the following session's.
      const opening = await request(app).get('/api/market/status').query({ at: '2026-11-30T14:30:00.000Z' });
      expect(opening.body).toMatchObject({ open: true, next_open: '2026-12-01T14:30:00.000Z' });
      const closing = await request(app).get('/api/market/status').query({ at: '2026-11-30T21:00:00.000Z' });
      expect(closing.body).toMatchObject({ open: false, next_open: '2026-12-01T14:30:00.000Z', next_close: '2026-12-01T21:00:00.000Z' });
      const bad = await request(app).get('/api/market/status').query({ at: 'yesterday' });
      expect(bad.status).toBe(400);
      expect(bad.body.details[0].field).toBe('at');
      // No offset: refused, not read in the server's own time zone.
      const local = await request(app).get('/api/market/status').query({ at: '2026-11-27T10:00:00' });
      expect(local.status).toBe(400);
      expect(local.body.details[0].message).toMatch(/with an offset/);
      const plus = await request(app).get('/api/market/status?at=2026-11-27T20:00:00+05:00');
      expect(plus.status).toBe(400);
      expect(plus.body.details[0].message).toMatch(/%2B/);
      const encoded = await request(app).get('/api/market/status?at=2026-11-27T20:00:00%2B05:00');
      expect(encoded.body).toMatchObject({ now: '2026-11-27T15:00:00.000Z', open: true, early_close: true });
    } finally {
      await closeQueues(queues);
      redis.disconnect();
    }
  });

  it('two schedulers on one Redis: every due instant produces exactly one job', async () => {
    const config = setup(`schedules:\n${ALWAYS('beat', '1s')}`);
    const a = await start(config, { watch: false });
    const b = await start(config, { watch: false });
    expect([a.isLeader(), b.isLeader()].filter(Boolean)).toHaveLength(1);
    const dues: number[] = [];
    const worker = new Worker('trading-cycle', async (job) => void dues.push(Number(String(job.id).split(':').pop())), {
      connection: createRedisConnection(config, 'worker'),
      prefix: config.QUEUE_PREFIX,
      concurrency: 4,
    });
    await new Promise((r) => setTimeout(r, 10_000));
    await worker.close();
    const sorted = [...dues].sort((x, y) => x - y);
    expect(new Set(sorted).size).toBe(sorted.length);
    expect(sorted.length).toBeGreaterThanOrEqual(8);
    // Consecutive runs are one interval apart: no extra fire, no missed one.
    for (let i = 1; i < sorted.length; i++) expect(sorted[i]! - sorted[i - 1]!).toBe(1000);
  }, 20_000);

  it('watchdog re-arms a scheduler whose pending run was deleted behind its back, and counts it', async () => {
    const config = setup(`schedules:\n${ALWAYS('desk', '1m')}`);
    const s = await start(config, { watch: false, watchdogMs: 500 });
    const queue = s.queues['trading-cycle'];
    // `every` without a window fires at once: let the first run be taken so the pending one is delayed.
    const redis = createRedisConnection(config, 'worker');
    const prefix = config.QUEUE_PREFIX;
    const delayed = await waitFor(async () => (await queue.getDelayed())[0] ?? (await queue.getWaiting())[0]);
    await redis.zrem(`${prefix}:trading-cycle:delayed`, delayed.id!);
    await redis.lrem(`${prefix}:trading-cycle:wait`, 0, delayed.id!);
    await redis.del(`${prefix}:trading-cycle:${delayed.id}`);
    expect(await queue.getJob(delayed.id!)).toBeUndefined();
    await waitFor(async () => (await queue.getDelayed()).length + (await queue.getWaiting()).length > 0, 3_000);
    const counters = await readCounters(redis, productKeys(prefix));
    expect(counters.find((c) => c.name === 'schedule_rearmed_total')).toMatchObject({ labels: { schedule: 'desk' }, value: 1 });
    redis.disconnect();
  });
});

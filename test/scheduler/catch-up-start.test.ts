import { pino } from 'pino';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { MarketCalendar } from '../../src/calendar/index.ts';
import { createRedisConnection, productKeys } from '../../src/core/index.ts';
import { createApp } from '../../src/dashboard/index.ts';
import { startScheduler } from '../../src/scheduler/index.ts';
import { startWorkers } from '../../src/tasks/index.ts';
import { silentLogger, waitFor } from '../support/redis-test-env.ts';
import { schedulerHarness } from '../support/scheduler-harness.ts';
import { runCycle } from '../support/test-cycle.ts';

/**
 * A scheduler's start-up after downtime, with catch_up set, against real Redis, BullMQ and a worker:
 * the scheduler was down across a session's roll, so the new session's runs never fired.
 */
const h = schedulerHarness();
const MIN = 60_000;

const setup = (yaml: string) => h.setup('catchupstart', yaml);


/** Two consecutive sessions a week or more ahead (BullMQ keeps the real clock: their runs lie in its future). */
function sessions() {
  const cal = new MarketCalendar();
  const a = cal.nextSessionWindow(new Date(Date.now() + 7 * 86_400_000), 'regular');
  const b = cal.nextSessionWindow(a.close, 'regular');
  return { a: { open: a.open.getTime(), close: a.close.getTime() }, b: { open: b.open.getTime(), close: b.close.getTime() } };
}

describe('catch-up at a scheduler start (real Redis, BullMQ, worker)', () => {
  it('enqueues exactly one cycle for the missed run; a worker runs it and GET /api/schedules shows it as the last run', async () => {
    const config = setup(`schedules:\n  - { id: desk, agent: quant, ticker: CAUP, every: 5m, market_hours: regular, catch_up: 1h }\n`);
    const { a, b } = sessions();
    const { redis, queues } = await h.connect(config);
    const keys = productKeys(config.QUEUE_PREFIX);
    const queue = queues['trading-cycle'];
    let clock = a.close - 5.5 * MIN; // the first session's last slot (close − 5 min) is 30 s away
    const now = () => new Date(clock);
    const deps = { now, watch: false, tickMs: 200, wakeWorkers: false } as const;

    // The session's last run fires (promoted: it lies in the real clock's future) and a worker runs it.
    const first = await h.started(startScheduler(config, silentLogger, deps));
    const lastSlot = a.close - 5 * MIN;
    const lastOfA = await queue.getJob(`repeat:desk:CAUP:${lastSlot}`);
    expect(lastOfA).toBeDefined();
    await first.stop();
    h.running.pop();
    clock = lastSlot + 20_000;
    await h.started(startWorkers(config, silentLogger, { sandbox: false, runCycle, now: () => clock }));
    await lastOfA!.promote();
    await waitFor(async () => (await queue.getJobState(lastOfA!.id!)) === 'completed', 10_000);

    // Down over night; back at the next session's open + 92 min: the run due at + 90 min was missed.
    clock = b.open + 92 * MIN;
    const due = b.open + 90 * MIN;
    const id = `catchup:desk:CAUP@${due}`;
    await h.started(startScheduler(config, silentLogger, deps));
    await waitFor(async () => (await queue.getJobState(id)) === 'completed', 10_000);
    const app = createApp({ config, logger: silentLogger, redis, keys, queues, now });
    const view = (await request(app).get('/api/schedules')).body.schedules.find((s: { id: string }) => s.id === 'desk');
    expect(view.last_run).toMatchObject({ job_id: id, status: 'completed', due_at: due });
    expect((await request(app).get(`/api/jobs/${id}`)).body).toMatchObject({ status: 'completed', schedule_id: 'desk', ticker: 'CAUP' });

    // Exactly one: a restart (or the other scheduler) adds nothing more; the session runs on from its next slot.
    await h.started(startScheduler(config, silentLogger, deps));
    const all = await queue.getJobs(['waiting', 'delayed', 'prioritized', 'active', 'completed']);
    expect(all.map((j) => j.id).sort()).toEqual([id, `repeat:desk:CAUP:${b.open + 95 * MIN}`, `repeat:desk:CAUP:${lastSlot}`].sort());
  });

  it('a failure in one entry\'s catch-up is logged once: the others are caught up and the scheduler carries on', async () => {
    const config = setup(`schedules:\n  - { id: desk, agent: quant, tickers: [CBAD, CGOOD], every: 5m, market_hours: regular, catch_up: 1h }\n`);
    const { b } = sessions();
    const { redis, queues } = await h.connect(config);
    const keys = productKeys(config.QUEUE_PREFIX);
    // One last-run record is unreadable (written by hand, or by an older version); the other is fine.
    await redis.hset(keys.lastRuns, 'desk:CBAD', 'not json', 'desk:CGOOD', JSON.stringify({ job_id: 'x', status: 'completed', due_at: b.open }));
    const lines: Array<{ level: number; msg: string; schedulerKey?: string }> = [];
    const logger = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s) as { level: number; msg: string }) });
    const due = b.open + 90 * MIN;
    const s = await h.started(startScheduler(config, logger, { now: () => new Date(b.open + 92 * MIN), watch: false, tickMs: 100, wakeWorkers: false }));
    expect(s.isLeader()).toBe(true);
    expect(await queues['trading-cycle'].getJob(`catchup:desk:CGOOD@${due}`)).toBeDefined();
    // Several ticks later: the failure was logged once, naming the scheduler, and nothing was redone.
    await new Promise((r) => setTimeout(r, 600));
    const failures = lines.filter((l) => l.level >= 40 && /catch-up/.test(l.msg));
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ schedulerKey: 'desk:CBAD' });
    expect(lines.filter((l) => /took the scheduler lead/.test(l.msg))).toHaveLength(1);
    expect(lines.filter((l) => /schedules reconciled/.test(l.msg))).toHaveLength(1);
    expect(await queues['trading-cycle'].getJobSchedulers()).toHaveLength(2);
  });

  it('a start-up round that fails part-way and is retried gives a schedule new in this tenure no catch-up run', async () => {
    const config = setup(`schedules:\n  - { id: fresh, agent: quant, ticker: FRSH, every: 5m, market_hours: regular, catch_up: 1h }\n  - { id: broken, agent: quant, ticker: BRK, every: 5m, market_hours: regular }\n`);
    const { b } = sessions();
    const { redis, queues } = await h.connect(config);
    const queue = queues['trading-cycle'];
    // Nothing existed before this tenure. One scheduler's hash is not a hash: its add fails (WRONGTYPE)
    // after the other one's add went through, so the round fails part-way and is retried every tick.
    const brokenKey = `${queue.keys.repeat}:broken:BRK`;
    await redis.set(brokenKey, 'not a hash');
    const lines: Array<{ level: number; msg: string }> = [];
    const logger = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s) as { level: number; msg: string }) });
    await h.started(startScheduler(config, logger, { now: () => new Date(b.open + 92 * MIN), watch: false, tickMs: 100, wakeWorkers: false }));
    expect(lines.some((l) => l.level === 40 && /^start-up failed/.test(l.msg))).toBe(true);
    expect(await queue.getJobScheduler('fresh:FRSH')).toBeDefined();
    // The cause goes away; a retry completes the round (and the take-over's catch-up).
    await redis.del(brokenKey);
    await waitFor(() => lines.some((l) => /schedules reconciled/.test(l.msg)), 5_000);
    await new Promise((r) => setTimeout(r, 300));
    expect((await queue.getJobSchedulers()).map((s) => s.key).sort()).toEqual(['broken:BRK', 'fresh:FRSH']);
    // `fresh` did not exist before this tenure: it missed nothing, whatever the first try wrote.
    expect(await queue.getJob(`catchup:fresh:FRSH@${b.open + 90 * MIN}`)).toBeUndefined();
    expect(lines.filter((l) => /catch-up: one missed cycle enqueued/.test(l.msg))).toHaveLength(0);
  });

  it('a catch-up that fails as a whole is logged once and the scheduler leads on (no retry every tick)', async () => {
    const config = setup(`schedules:\n  - { id: desk, agent: quant, ticker: CALL, every: 5m, market_hours: regular, catch_up: 1h }\n`);
    const { b } = sessions();
    const redis = createRedisConnection(config, 'producer');
    await waitFor(() => redis.status === 'ready');
    h.running.push({ stop: async () => redis.disconnect() });
    // The last-run hash is not a hash (WRONGTYPE on every read of it).
    await redis.set(productKeys(config.QUEUE_PREFIX).lastRuns, 'oops');
    const lines: Array<{ level: number; msg: string }> = [];
    const logger = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s) as { level: number; msg: string }) });
    const s = await h.started(startScheduler(config, logger, { now: () => new Date(b.open + 92 * MIN), watch: false, tickMs: 100, wakeWorkers: false }));
    await new Promise((r) => setTimeout(r, 600));
    expect(s.isLeader()).toBe(true);
    expect(lines.filter((l) => l.level >= 40 && /catch-up/.test(l.msg))).toHaveLength(1);
    expect(lines.filter((l) => /took the scheduler lead/.test(l.msg))).toHaveLength(1);
    expect(lines.filter((l) => l.level >= 40)).toHaveLength(1);
  });
});

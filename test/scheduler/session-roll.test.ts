import { describe, expect, it } from 'vitest';
import { MarketCalendar } from '../../src/calendar/index.ts';
import { startScheduler } from '../../src/scheduler/index.ts';
import { startWorkers } from '../../src/tasks/index.ts';
import { silentLogger, waitFor } from '../support/redis-test-env.ts';
import { schedulerHarness } from '../support/scheduler-harness.ts';
import { runCycle } from '../support/test-cycle.ts';

/** Re-arm at the close, by a running leader, against real BullMQ: the session's last run first, then the next session. */
const h = schedulerHarness();
const MIN = 60_000;

describe('re-arm at the close (real Redis, BullMQ, worker)', () => {
  it('re-arms at the close even while the session\'s last run waits for a worker: that run is kept and runs once', async () => {
    const config = h.setup('roll', `schedules:\n  - { id: desk, agent: quant, ticker: ROLL, every: 5m, market_hours: regular }\n`);
    const { queues } = await h.connect(config);
    const queue = queues['trading-cycle'];
    // Sessions a week or more ahead: their runs lie in BullMQ's (real) future.
    const cal = new MarketCalendar();
    const a = cal.nextSessionWindow(new Date(Date.now() + 7 * 86_400_000), 'regular');
    const b = cal.nextSessionWindow(a.close, 'regular');
    const close = a.close.getTime();
    let clock = close - 5.5 * MIN;
    await h.started(startScheduler(config, silentLogger, { now: () => new Date(clock), watch: false, tickMs: 100, wakeWorkers: false }));
    const lastSlot = close - 5 * MIN;
    const next = async (key: string) => (await queue.getJobScheduler(key))?.next;
    expect(await next('desk:ROLL')).toBe(lastSlot);

    // Past the close, the session's last run not yet started (a busy or stopped worker): the next
    // session is armed at once (its open run is not lost to a late worker), the last run kept.
    clock = close + MIN;
    const id = `repeat:desk:ROLL:${lastSlot}`;
    await waitFor(async () => (await next('desk:ROLL')) === b.open.getTime(), 5_000);
    expect(await queue.getJobState(id)).toBe('waiting');
    expect((await queue.getDelayed()).map((j) => j.id)).toEqual([`repeat:desk:ROLL:${b.open.getTime()}`]);

    // It runs once; the next session stays armed at its open, nothing else is added.
    await h.started(startWorkers(config, silentLogger, { sandbox: false, runCycle, now: () => clock }));
    await waitFor(async () => (await queue.getJobState(id)) === 'completed', 10_000);
    await new Promise((r) => setTimeout(r, 400));
    expect(await next('desk:ROLL')).toBe(b.open.getTime());
    expect((await queue.getDelayed()).map((j) => j.id)).toEqual([`repeat:desk:ROLL:${b.open.getTime()}`]);
    expect((await queue.getWaiting()).length).toBe(0);
  });
});

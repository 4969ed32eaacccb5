import { writeFileSync } from 'node:fs';
import { Worker, type Queue } from 'bullmq';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { MarketCalendar } from '../../src/calendar/index.ts';
import { createRedisConnection, type Config, type QueueName } from '../../src/core/index.ts';
import { startScheduler } from '../../src/scheduler/index.ts';
import { silentLogger, waitFor } from '../support/redis-test-env.ts';
import { schedulerHarness } from '../support/scheduler-harness.ts';

/**
 * Edits of a schedule whose run is already due and waits for a worker (a backlog, a stopped worker),
 * against real Redis and BullMQ: the edit applies at once and the due run is kept, run once.
 */
const h = schedulerHarness();
const MIN = 60_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Line = { level: number; msg: string; keptDueRuns?: string[] };
function capture() {
  const lines: Line[] = [];
  return { lines, logger: pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s) as Line) }) };
}

/** Waits until the scheduler's pending run is due by the real clock (BullMQ's) and still delayed: no worker runs. */
async function dueRun(queue: Queue, key: string): Promise<{ id: string; due: number }> {
  const due = (await queue.getJobScheduler(key))!.next!;
  await sleep(Math.max(0, due - Date.now()) + 100);
  const id = `repeat:${key}:${due}`;
  expect(['delayed', 'waiting']).toContain(await queue.getJobState(id));
  return { id, due };
}

/** A plain BullMQ worker per queue that records what it ran (job id and its queue). */
function recordRuns(config: Config, names: QueueName[]) {
  const ran: Array<{ queue: QueueName; id: string }> = [];
  for (const name of names) {
    const connection = createRedisConnection(config, 'worker');
    const worker = new Worker(name, async (job) => void ran.push({ queue: name, id: job.id! }), { connection, prefix: config.QUEUE_PREFIX, concurrency: 2 });
    h.running.push({ stop: async () => (await worker.close(), connection.disconnect()) });
  }
  return ran;
}

const dueOf = (id: string) => Number(id.split(':').pop());

describe('an edit while the scheduler run is due (real Redis, BullMQ)', () => {
  it('a cron edit applies at once: the due run is kept (logged as keptDueRuns) and runs once, then the new pattern', async () => {
    const line = (cron: string) => `schedules:\n  - { id: tick, agent: quant, ticker: CRN, cron: "${cron}", market_hours: always }\n`;
    const config = h.setup('dueedit', line('* * * * * *'));
    const { queues } = await h.connect(config);
    const queue = queues['trading-cycle'];
    const { lines, logger } = capture();
    const s = await h.started(startScheduler(config, logger, { watch: false, tickMs: 200, wakeWorkers: false }));
    const kept = await dueRun(queue, 'tick:CRN');

    writeFileSync(config.SCHEDULES_FILE, line('0 0 * * * *'));
    const report = await s.reload();
    expect(report).toMatchObject({ updated: ['tick:CRN'], kept: [kept.id] });
    const scheduler = await queue.getJobScheduler('tick:CRN');
    expect(scheduler?.pattern).toBe('0 0 * * * *');
    expect(scheduler!.next! % 3_600_000).toBe(0);
    expect(await queue.getJobState(kept.id)).toBe('waiting');
    expect(lines.find((l) => /schedules reconciled \(file loaded\)/.test(l.msg))?.keptDueRuns).toEqual([kept.id]);
    // Ticks after it change nothing and keep nothing more.
    await sleep(500);
    expect(lines.filter((l) => l.keptDueRuns?.length)).toHaveLength(1);

    // A worker comes: the kept run runs once; the old pattern adds nothing after it.
    const ran = recordRuns(config, ['trading-cycle']);
    await waitFor(async () => (await queue.getJobState(kept.id)) === 'completed', 5_000);
    await sleep(1_500);
    expect(ran.map((r) => r.id)).toEqual([kept.id]);
    expect((await queue.getDelayed()).map((j) => j.id)).toEqual([`repeat:tick:CRN:${scheduler!.next}`]);
  });

  it('an `every` change of a gated schedule applies at once, keeping the run due on the old grid', async () => {
    const line = (every: string) => `schedules:\n  - { id: desk, agent: quant, ticker: EVR, every: ${every}, market_hours: regular }\n`;
    const config = h.setup('dueevery', line('5m'));
    const { queues } = await h.connect(config);
    const queue = queues['trading-cycle'];
    // A session a week or more ahead, on the scheduler's clock; its runs lie in BullMQ's (real) future.
    const session = new MarketCalendar().nextSessionWindow(new Date(Date.now() + 7 * 86_400_000), 'regular');
    const open = session.open.getTime();
    let clock = open + 62 * MIN;
    const s = await h.started(startScheduler(config, silentLogger, { now: () => new Date(clock), watch: false, tickMs: 200, wakeWorkers: false }));
    const slot = open + 65 * MIN;
    expect((await queue.getJobScheduler('desk:EVR'))?.next).toBe(slot);

    // Its run at +65 min is due (the clock is at +66) and no worker has taken it; the interval changes.
    clock = open + 66 * MIN;
    writeFileSync(config.SCHEDULES_FILE, line('10m'));
    const report = await s.reload();
    expect(report).toMatchObject({ updated: ['desk:EVR'], kept: [`repeat:desk:EVR:${slot}`] });
    const scheduler = await queue.getJobScheduler('desk:EVR');
    expect(scheduler).toMatchObject({ every: 600_000, next: open + 70 * MIN });
    expect(await queue.getJobState(`repeat:desk:EVR:${slot}`)).toBe('waiting');
    expect((await queue.getDelayed()).map((j) => j.id)).toEqual([`repeat:desk:EVR:${open + 70 * MIN}`]);
  });

  it('a cron schedule moved to another queue keeps the run due on the old queue, and fires on the new one from then on', async () => {
    const line = (queue: string) => `schedules:\n  - { id: mover, agent: quant, ticker: MOV, cron: "* * * * * *", market_hours: always, queue: ${queue} }\n`;
    const config = h.setup('duemove', line('trading-cycle'));
    const { queues } = await h.connect(config);
    const { lines, logger } = capture();
    const s = await h.started(startScheduler(config, logger, { watch: false, tickMs: 200, wakeWorkers: false }));
    const kept = await dueRun(queues['trading-cycle'], 'mover:MOV');

    writeFileSync(config.SCHEDULES_FILE, line('trading-cycle-priority'));
    const report = await s.reload();
    expect(report).toMatchObject({ kept: [kept.id] });
    expect(await queues['trading-cycle'].getJobSchedulers()).toHaveLength(0);
    expect((await queues['trading-cycle-priority'].getJobScheduler('mover:MOV'))?.next).toBeGreaterThan(kept.due);
    expect(await queues['trading-cycle'].getJobState(kept.id)).toBe('waiting');
    expect(lines.find((l) => /schedules reconciled/.test(l.msg) && l.keptDueRuns?.length)?.keptDueRuns).toEqual([kept.id]);

    const ran = recordRuns(config, ['trading-cycle', 'trading-cycle-priority']);
    await waitFor(() => ran.filter((r) => r.queue === 'trading-cycle-priority').length >= 2, 5_000);
    await s.stop();
    h.running.splice(h.running.indexOf(s), 1);
    await sleep(300);
    expect(ran.filter((r) => r.queue === 'trading-cycle').map((r) => r.id)).toEqual([kept.id]);
    const moved = ran.filter((r) => r.queue === 'trading-cycle-priority').map((r) => dueOf(r.id));
    // The due instant ran once (on the old queue); the new queue's runs come after it, one per second.
    expect(new Set([kept.due, ...moved]).size).toBe(moved.length + 1);
    for (const due of moved) expect(due).toBeGreaterThan(kept.due);
    const sorted = [...moved].sort((a, b) => a - b);
    for (let i = 1; i < sorted.length; i++) expect(sorted[i]! - sorted[i - 1]!).toBe(1000);
  });

  it('an `every` schedule moved to another queue keeps its due run and goes on from it on the new queue, not at once', async () => {
    const line = (queue: string) => `schedules:\n  - { id: beat, agent: quant, ticker: BEAT, every: 2s, market_hours: always, queue: ${queue} }\n`;
    const config = h.setup('duemoveevery', line('trading-cycle'));
    const { queues } = await h.connect(config);
    const s = await h.started(startScheduler(config, silentLogger, { watch: false, tickMs: 200, wakeWorkers: false }));
    // A fresh `always` + `every` scheduler fires at once: its first run is due and waits for a worker.
    const kept = await dueRun(queues['trading-cycle'], 'beat:BEAT');

    writeFileSync(config.SCHEDULES_FILE, line('trading-cycle-priority'));
    const report = await s.reload();
    expect(report).toMatchObject({ kept: [kept.id] });
    const next = (await queues['trading-cycle-priority'].getJobScheduler('beat:BEAT'))!.next!;
    expect(next).toBeGreaterThan(kept.due);
    expect((next - kept.due) % 2_000).toBe(0);
    expect(await queues['trading-cycle'].getJobState(kept.id)).toBe('waiting');

    const ran = recordRuns(config, ['trading-cycle', 'trading-cycle-priority']);
    await waitFor(() => ran.some((r) => r.queue === 'trading-cycle-priority'), 5_000);
    expect(ran.filter((r) => r.queue === 'trading-cycle').map((r) => r.id)).toEqual([kept.id]);
    const first = dueOf(ran.find((r) => r.queue === 'trading-cycle-priority')!.id);
    expect(first).toBe(next);
  });

  it('a run kept by an edit gets no catch-up run beside it when a scheduler takes the lead later', async () => {
    const line = (cron: string) => `schedules:\n  - { id: late, agent: quant, ticker: LATE, cron: "${cron}", market_hours: always, catch_up: 1h }\n`;
    const config = h.setup('duekeptcatchup', line('* * * * * *'));
    const { queues } = await h.connect(config);
    const queue = queues['trading-cycle'];
    const first = await h.started(startScheduler(config, silentLogger, { watch: false, tickMs: 200, wakeWorkers: false }));
    const kept = await dueRun(queue, 'late:LATE');
    writeFileSync(config.SCHEDULES_FILE, line('0 0 * * * *'));
    expect(await first.reload()).toMatchObject({ kept: [kept.id] });
    await first.stop();
    h.running.splice(h.running.indexOf(first), 1);

    // A new tenure: the hourly pattern's last instant (this hour's start) never ran, but the kept run
    // still waits for a worker: it is the schedule's missed run, and nothing is added beside it.
    const { lines, logger } = capture();
    await h.started(startScheduler(config, logger, { watch: false, tickMs: 200, wakeWorkers: false }));
    expect(lines.some((l) => /took the scheduler lead/.test(l.msg))).toBe(true);
    const topOfHour = Math.floor(Date.now() / 3_600_000) * 3_600_000;
    expect(await queue.getJob(`catchup:late:LATE@${topOfHour}`)).toBeUndefined();
    expect(lines.filter((l) => /catch-up: one missed cycle enqueued/.test(l.msg))).toHaveLength(0);
    expect((await queue.getWaiting()).map((j) => j.id)).toEqual([kept.id]);
  });
});

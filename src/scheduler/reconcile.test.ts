import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeQueues, openQueues, productKeys, type QueueName } from '../core/index.ts';
import { desiredSchedulers } from './desired-schedulers.ts';
import { reconcileSchedulers } from './reconcile.ts';
import { readSchedulerStates, templateDataHash } from './scheduler-states.ts';
import { changedEntries } from './changed-entries.ts';
import { parseScheduleText } from './schedule-file.ts';
import { publishScheduleSet, readPublishedSchedules } from './schedule-registry.ts';
import { deletePrefix, TEST_REDIS_URL, uniquePrefix } from '../../test/support/redis-test-env.ts';
import type { Queue } from 'bullmq';
import { MarketCalendar } from '../calendar/index.ts';

const cal = new MarketCalendar();

const prefix = uniquePrefix('reconcile');
let redis: Redis;
let queues: Record<QueueName, Queue>;

const fileA = `
schedules:
  - id: desk
    agent: quant
    tickers: [SPY, TSLA]
    every: 5m
    market_hours: always
  - id: hourly
    agent: quant
    ticker: AAPL
    every: 1h
    market_hours: always
  - id: off
    agent: quant
    ticker: MSFT
    every: 1m
    enabled: false
`;

async function schedulerIds(): Promise<string[]> {
  const all = await Promise.all(Object.values(queues).map((q) => q.getJobSchedulers(0, -1, true)));
  return all.flat().map((s) => s.key).sort();
}

beforeAll(() => {
  redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  queues = openQueues(redis, prefix);
});
afterAll(async () => {
  await closeQueues(queues);
  redis.disconnect();
  await deletePrefix(prefix);
});

describe('reconcileSchedulers (real Redis)', () => {
  it('adds one scheduler per (schedule, ticker), skipping disabled schedules', async () => {
    const report = await reconcileSchedulers(queues, desiredSchedulers(parseScheduleText(fileA), new Set(), cal, new Date()));
    expect(report.added.sort()).toEqual(['desk:SPY', 'desk:TSLA', 'hourly:AAPL']);
    expect(await schedulerIds()).toEqual(['desk:SPY', 'desk:TSLA', 'hourly:AAPL']);
    const spy = await queues['trading-cycle'].getJobScheduler('desk:SPY');
    expect(spy?.every).toBe(300_000);
    expect(spy?.template?.data).toMatchObject({ agent: 'quant', ticker: 'SPY', schedule_id: 'desk', trigger: 'schedule', dry_run: true });
  });

  it('is idempotent: a second run changes nothing and leaves one pending run per scheduler', async () => {
    const before = await queues['trading-cycle'].getDelayedCount();
    const report = await reconcileSchedulers(queues, desiredSchedulers(parseScheduleText(fileA), new Set(), cal, new Date()));
    expect(report).toEqual({ added: [], updated: [], removed: [], rolled: [], kept: [], unchanged: 3 });
    expect(await queues['trading-cycle'].getDelayedCount()).toBe(before);
  });

  it('updates changed schedules in place and removes only the ones that left the file', async () => {
    const fileB = fileA.replace('every: 5m', 'every: 10m').replace(/  - id: hourly[\s\S]*?market_hours: always\n/, '');
    const report = await reconcileSchedulers(queues, desiredSchedulers(parseScheduleText(fileB), new Set(), cal, new Date()));
    expect(report.updated.sort()).toEqual(['desk:SPY', 'desk:TSLA']);
    expect(report.removed).toEqual(['hourly:AAPL']);
    expect(await schedulerIds()).toEqual(['desk:SPY', 'desk:TSLA']);
    expect((await queues['trading-cycle'].getJobScheduler('desk:TSLA'))?.every).toBe(600_000);
  });

  it('moves a scheduler when its queue changes', async () => {
    const fileC = fileA.replace('every: 5m', 'every: 5m\n    queue: trading-cycle-priority');
    await reconcileSchedulers(queues, desiredSchedulers(parseScheduleText(fileC), new Set(), cal, new Date()));
    expect((await queues['trading-cycle-priority'].getJobSchedulers()).map((s) => s.key).sort()).toEqual(['desk:SPY', 'desk:TSLA']);
    expect((await queues['trading-cycle'].getJobSchedulers()).map((s) => s.key)).toEqual(['hourly:AAPL']);
  });

  it('drops paused schedules', async () => {
    await reconcileSchedulers(queues, desiredSchedulers(parseScheduleText(fileA), new Set(['desk']), cal, new Date()));
    expect(await schedulerIds()).toEqual(['hourly:AAPL']);
  });

  it('publishes the loaded set for the API', async () => {
    const keys = productKeys(prefix);
    const set = parseScheduleText(fileA);
    await publishScheduleSet(redis, keys, set, new Date());
    expect((await readPublishedSchedules(redis, keys)).map((s) => s.id)).toEqual(['desk', 'hourly', 'off']);
  });

  it('reads every scheduler without its template: data hash, options and where its next run is', async () => {
    const desired = desiredSchedulers(parseScheduleText(fileA), new Set(), cal, new Date());
    await reconcileSchedulers(queues, desired);
    const states = await readSchedulerStates(queues['trading-cycle']);
    const spy = desired.find((d) => d.key === 'desk:SPY')!;
    // A fresh `always` scheduler fires at once: its first run waits for a worker, not in the delayed set.
    expect(states.get('desk:SPY')).toMatchObject({ every: 300_000, dataHash: templateDataHash(spy.template.data), nextRun: 'other', opts: { attempts: spy.template.opts.attempts } });
    const next = states.get('desk:SPY')!.next;
    expect(await queues['trading-cycle'].getJobState(`repeat:desk:SPY:${next}`)).toBe('waiting');
    // A run lost upstream (what the watchdog looks for): gone from the wait list and from Redis.
    const q = queues['trading-cycle'];
    await redis.lrem(q.keys.wait!, 0, `repeat:desk:SPY:${next}`);
    await redis.del(q.toKey(`repeat:desk:SPY:${next}`));
    expect((await readSchedulerStates(queues['trading-cycle'])).get('desk:SPY')?.nextRun).toBe('missing');
    await reconcileSchedulers(queues, []);
  });

  it('sees a changed agent profile, and a template edited behind its back, and rewrites only those', async () => {
    const withAgent = (rounds: number) => `agents:\n  deep:\n    engine: quant\n    debate_rounds: ${rounds}\n${fileA.replace(/agent: quant\n    ticker: AAPL/, 'agent: deep\n    ticker: AAPL')}`;
    await reconcileSchedulers(queues, desiredSchedulers(parseScheduleText(withAgent(1)), new Set(), cal, new Date()));
    const changed = await reconcileSchedulers(queues, desiredSchedulers(parseScheduleText(withAgent(2)), new Set(), cal, new Date()));
    expect(changed.updated).toEqual(['hourly:AAPL']);
    expect((await queues['trading-cycle'].getJobScheduler('hourly:AAPL'))?.template?.data).toMatchObject({ agent: 'deep', profile: { debate_rounds: 2 } });
    const desk = await queues['trading-cycle'].getJobScheduler('desk:SPY');
    await queues['trading-cycle'].upsertJobScheduler('desk:SPY', { every: desk!.every! }, { name: desk!.name, data: { ...desk!.template!.data, dry_run: false }, opts: desk!.template!.opts! });
    const repaired = await reconcileSchedulers(queues, desiredSchedulers(parseScheduleText(withAgent(2)), new Set(), cal, new Date()));
    expect(repaired).toMatchObject({ updated: ['desk:SPY'], unchanged: 2 });
    expect((await queues['trading-cycle'].getJobScheduler('desk:SPY'))?.template?.data).toMatchObject({ dry_run: true });
  });

  it('an edit reconciles only the entries it changed: the others are neither read nor written', async () => {
    const before = parseScheduleText(fileA);
    await reconcileSchedulers(queues, desiredSchedulers(before, new Set(), cal, new Date()));
    const after = parseScheduleText(fileA.replace('every: 1h', 'every: 2h').replace('tickers: [SPY, TSLA]', 'tickers: [SPY, TSLA, QQQ]'));
    const edit = changedEntries(before, after);
    expect([...edit.ids].sort()).toEqual(['desk', 'hourly']);
    expect([...edit.keys].sort()).toEqual(['desk:QQQ', 'desk:SPY', 'desk:TSLA', 'hourly:AAPL']);
    expect(changedEntries(after, parseScheduleText(fileA.replace('every: 1h', 'every: 2h').replace('tickers: [SPY, TSLA]', 'tickers: [SPY, TSLA, QQQ]'))).ids.size).toBe(0);
    // Out of scope, a scheduler the file no longer asks for stays: the tick's full diff removes it.
    const report = await reconcileSchedulers(queues, desiredSchedulers(after, new Set(), cal, new Date()), { scope: new Set(['desk:QQQ', 'hourly:AAPL']) });
    expect(report).toMatchObject({ added: ['desk:QQQ'], updated: ['hourly:AAPL'], removed: [], unchanged: 0 });
    const rest = await reconcileSchedulers(queues, desiredSchedulers(parseScheduleText(fileA.replace(/  - id: desk[\s\S]*?market_hours: always\n/, '')), new Set(), cal, new Date()), { scope: new Set(['hourly:AAPL']) });
    expect(rest).toMatchObject({ removed: [], unchanged: 0, updated: ['hourly:AAPL'] });
    expect(await schedulerIds()).toEqual(['desk:QQQ', 'desk:SPY', 'desk:TSLA', 'hourly:AAPL']);
    const full = await reconcileSchedulers(queues, desiredSchedulers(parseScheduleText(fileA.replace(/  - id: desk[\s\S]*?market_hours: always\n/, '')), new Set(), cal, new Date()));
    expect(full.removed.sort()).toEqual(['desk:QQQ', 'desk:SPY', 'desk:TSLA']);
  });

  it('an edit of a cron schedule whose due run waits for a worker applies at once and keeps that run (BullMQ would drop it)', async () => {
    const own = uniquePrefix('reconcile-due');
    const qs = openQueues(redis, own);
    const q = qs['trading-cycle'];
    try {
      const file = (attempts: number) => `schedules:\n  - { id: tick, agent: quant, ticker: SPY, cron: "* * * * * *", market_hours: always, attempts: ${attempts} }\n`;
      await reconcileSchedulers(qs, desiredSchedulers(parseScheduleText(file(2)), new Set(), cal, new Date()));
      const due = (await q.getJobScheduler('tick:SPY'))!.next!;
      await new Promise((r) => setTimeout(r, Math.max(0, due - Date.now()) + 50));
      // Due, and no worker has taken it: the edit goes through, the run stays (waiting) and is recorded as kept.
      const applied = await reconcileSchedulers(qs, desiredSchedulers(parseScheduleText(file(3)), new Set(), cal, new Date()));
      expect(applied).toMatchObject({ updated: ['tick:SPY'], kept: [`repeat:tick:SPY:${due}`] });
      expect(await q.getJobState(`repeat:tick:SPY:${due}`)).toBe('waiting');
      const scheduler = await q.getJobScheduler('tick:SPY');
      expect(scheduler?.template?.opts).toMatchObject({ attempts: 3 });
      expect(scheduler!.next).toBeGreaterThan(due);
      expect(JSON.parse((await redis.hget(productKeys(own).keptRuns, 'tick:SPY'))!)).toEqual({ queue: 'trading-cycle', job_id: `repeat:tick:SPY:${due}`, due });
      // Paused (removed for good), the schedule leaves nothing pending: its kept run goes too.
      const removed = await reconcileSchedulers(qs, desiredSchedulers(parseScheduleText(file(3)), new Set(['tick']), cal, new Date()));
      expect(removed).toMatchObject({ removed: ['tick:SPY'], kept: [] });
      expect(await q.getJob(`repeat:tick:SPY:${due}`)).toBeUndefined();
      expect(await q.getWaitingCount()).toBe(0);
      expect(await redis.hget(productKeys(own).keptRuns, 'tick:SPY')).toBeNull();
    } finally {
      await closeQueues(qs);
      await deletePrefix(own);
    }
  });
});

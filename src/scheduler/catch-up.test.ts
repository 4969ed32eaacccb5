import { DateTime } from 'luxon';
import { afterAll, describe, expect, it } from 'vitest';
import { MarketCalendar } from '../calendar/index.ts';
import { closeQueues, createRedisConnection, isIssuedJobId, openQueues, productKeys } from '../core/index.ts';
import { deletePrefix, testConfig } from '../../test/support/redis-test-env.ts';
import { catchUpMissedRuns } from './catch-up.ts';
import { desiredSchedulers } from './desired-schedulers.ts';
import { parseScheduleText } from './schedule-file.ts';

/** The missed-run policy against real Redis and BullMQ: the one catch-up cycle is really enqueued. */
const config = testConfig('catchup');
const redis = createRedisConnection(config, 'worker');
const queues = openQueues(redis, config.QUEUE_PREFIX);
const keys = productKeys(config.QUEUE_PREFIX);
const cal = new MarketCalendar();

afterAll(async () => {
  await closeQueues(queues);
  redis.disconnect();
  await deletePrefix(config.QUEUE_PREFIX);
});

describe('catch-up of a missed run', () => {
  it('enqueues one cycle for the last missed due instant, under an id BullMQ accepts and the API serves; twice is still once', async () => {
    const set = parseScheduleText('schedules:\n  - { id: desk, agent: quant, ticker: BRK.B, every: 5m, market_hours: regular, catch_up: 1h }\n');
    // A Tuesday session at 11:02 New York time: the 11:00 run was missed (its scheduler was down).
    const now = DateTime.fromISO('2026-11-24T11:02', { zone: 'America/New_York' }).toMillis();
    const desired = desiredSchedulers(set, new Set(), cal, new Date(now));
    await redis.hset(keys.lastRuns, 'desk:BRK.B', JSON.stringify({ job_id: 'x', status: 'completed', due_at: now - 3_600_000 }));
    const deps = { redis, keys, queues, calendar: cal };
    const { enqueued: ids, failed } = await catchUpMissedRuns(deps, desired, new Set(['desk:BRK.B']), now);
    expect(failed).toEqual([]);
    const due = DateTime.fromISO('2026-11-24T11:00', { zone: 'America/New_York' }).toMillis();
    expect(ids).toHaveLength(1);
    expect(isIssuedJobId(ids[0]!)).toBe(true);
    const job = await queues['trading-cycle'].getJob(ids[0]!);
    expect(job?.data).toMatchObject({ schedule_id: 'desk', ticker: 'BRK.B', requested_at: new Date(due).toISOString() });
    expect(await catchUpMissedRuns(deps, desired, new Set(['desk:BRK.B']), now)).toEqual({ enqueued: [], failed: [] });
    expect(await queues['trading-cycle'].getJobCounts('waiting', 'prioritized', 'delayed')).toMatchObject({ waiting: 1 });
  });

  it('catches up a cron schedule too: its last pattern instant inside the session', async () => {
    const set = parseScheduleText('schedules:\n  - { id: halfhour, agent: quant, ticker: QQQ, cron: "*/30 * * * *", market_hours: regular, catch_up: 1h }\n');
    const now = DateTime.fromISO('2026-11-24T11:12', { zone: 'America/New_York' }).toMillis();
    const due = DateTime.fromISO('2026-11-24T11:00', { zone: 'America/New_York' }).toMillis();
    const desired = desiredSchedulers(set, new Set(), cal, new Date(now));
    const { enqueued } = await catchUpMissedRuns({ redis, keys, queues, calendar: cal }, desired, new Set(['halfhour:QQQ']), now);
    expect(enqueued).toEqual([`catchup:halfhour:QQQ@${due}`]);
  });
});

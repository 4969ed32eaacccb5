import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeQueues, createRedisConnection, openQueues, productKeys, recordScheduleRun, scheduleEntrySchema } from '../../src/core/index.ts';
import { createApp } from '../../src/dashboard/index.ts';
import { deletePrefix, silentLogger, testConfig, waitFor } from '../support/redis-test-env.ts';

/** GET /api/schedules/:id with a fixed clock: next runs with the calendar applied, counts, today's slots, pause notes. */
const config = testConfig('schedule-detail');
const redis = createRedisConnection(config, 'producer');
const queues = openQueues(redis, config.QUEUE_PREFIX);
const keys = productKeys(config.QUEUE_PREFIX);
let clock = new Date('2026-11-25T14:00:00Z'); // Wednesday 09:00 New York, the day before Thanksgiving
const app = createApp({ config, logger: silentLogger, redis, keys, queues, now: () => clock });
const ny = (iso: string) => new Date(iso).toLocaleString('sv-SE', { timeZone: 'America/New_York' }).slice(0, 16);

beforeAll(async () => {
  await waitFor(() => redis.status === 'ready');
  const desk = scheduleEntrySchema.parse({ id: 'desk', agent: 'quant', tickers: ['SPY', 'QQQ'], every: '1h', market_hours: 'regular' });
  const nightly = scheduleEntrySchema.parse({ id: 'nightly', agent: 'quant', ticker: 'SPY', cron: '0 18 * * 1-5', market_hours: 'always' });
  await redis.hset(keys.schedules, 'desk', JSON.stringify(desk), 'nightly', JSON.stringify(nightly));
});
afterAll(async () => {
  await closeQueues(queues);
  redis.disconnect();
  await deletePrefix(config.QUEUE_PREFIX);
});

describe('next runs', () => {
  it('lists the next N runs per ticker: none on Thanksgiving, none at or after the 13:00 early close', async () => {
    const res = await request(app).get('/api/schedules/desk?next=12');
    expect(res.status).toBe(200);
    expect(res.body.next_runs.map((r: { ticker: string }) => r.ticker)).toEqual(['SPY', 'QQQ']);
    const runs = (res.body.next_runs[0].runs as string[]).map(ny);
    expect(runs).toEqual([
      '2026-11-25 09:30', '2026-11-25 10:30', '2026-11-25 11:30', '2026-11-25 12:30', '2026-11-25 13:30', '2026-11-25 14:30', '2026-11-25 15:30',
      // 11-26 Thanksgiving: closed. 11-27 closes at 13:00.
      '2026-11-27 09:30', '2026-11-27 10:30', '2026-11-27 11:30', '2026-11-27 12:30',
      '2026-11-30 09:30',
    ]);
    expect(res.body.next_runs[1].runs).toEqual(res.body.next_runs[0].runs);
  });

  it('a cron schedule lists its pattern instants; a bad N is a 400 naming the field', async () => {
    const res = await request(app).get('/api/schedules/nightly?next=3');
    expect(res.body.next_runs[0].runs.map(ny)).toEqual(['2026-11-25 18:00', '2026-11-26 18:00', '2026-11-27 18:00']);
    const bad = await request(app).get('/api/schedules/desk?next=0');
    expect(bad.status).toBe(400);
    expect(bad.body.details[0].field).toBe('next');
    expect((await request(app).get('/api/schedules/ghost')).status).toBe(404);
  });
});

describe("today's timeline and counts", () => {
  it('draws the early-close session as planned slots against what happened, with counts for today and all time', async () => {
    clock = new Date('2026-11-27T16:05:00Z'); // Friday 11:05 New York, early close at 13:00
    const slot = (hhmm: string) => Date.parse(`2026-11-27T${hhmm}:00-05:00`);
    const at = (ms: number) => new Date(ms).toISOString();
    await recordScheduleRun(redis, keys, 'desk', { job_id: `repeat:desk:SPY:${slot('09:30')}`, ticker: 'SPY', trigger: 'schedule', status: 'completed', decision: 'BUY', due_at: slot('09:30'), finished_at: at(slot('09:31')) });
    await recordScheduleRun(redis, keys, 'desk', { job_id: `repeat:desk:SPY:${slot('10:30')}`, ticker: 'SPY', trigger: 'schedule', status: 'skipped', reason: 'overlap', due_at: slot('10:30'), finished_at: at(slot('10:30')) });
    await recordScheduleRun(redis, keys, 'desk', { job_id: `repeat:desk:QQQ:${slot('10:30')}`, ticker: 'QQQ', trigger: 'schedule', status: 'failed', reason: 'boom', due_at: slot('10:30'), finished_at: at(slot('10:32')) });
    await recordScheduleRun(redis, keys, 'desk', { job_id: 'manual-1', ticker: 'QQQ', trigger: 'manual', status: 'completed', decision: 'HOLD', due_at: slot('10:45'), finished_at: at(slot('10:46')) });
    // An older day counts for all time only.
    await recordScheduleRun(redis, keys, 'desk', { job_id: 'old', ticker: 'SPY', trigger: 'schedule', status: 'skipped', reason: 'stale', due_at: Date.parse('2026-11-20T15:30:00Z'), finished_at: '2026-11-20T15:30:00Z' });

    const d = (await request(app).get('/api/schedules/desk')).body;
    expect(d.today.date).toBe('2026-11-27');
    expect(d.today.session).toEqual({ open: at(slot('09:30')), close: at(slot('13:00')), early_close: true });
    expect(d.today.slots.map((s: { at: string }) => ny(s.at).slice(11))).toEqual(['09:30', '10:30', '11:30', '12:30']);
    const cell = (i: number, ticker: string) => d.today.slots[i].runs.find((r: { ticker: string }) => r.ticker === ticker);
    expect(cell(0, 'SPY')).toMatchObject({ status: 'completed', decision: 'BUY' });
    expect(cell(0, 'QQQ').status).toBe('missing');
    expect(cell(1, 'SPY')).toMatchObject({ status: 'skipped', reason: 'overlap' });
    expect(cell(1, 'QQQ')).toMatchObject({ status: 'failed', reason: 'boom' });
    expect(cell(2, 'SPY').status).toBe('planned');
    expect(d.today.other_runs.map((r: { job_id: string }) => r.job_id)).toEqual(['manual-1']);
    expect(d.counts.today).toEqual({ ran: 2, failed: 1, cancelled: 0, skipped: { overlap: 1 } });
    expect(d.counts.all_time).toEqual({ ran: 2, failed: 1, cancelled: 0, skipped: { overlap: 1, stale: 1 } });
    expect(d.recent_runs[0].job_id).toBe('old');
    expect(d.recent_runs).toHaveLength(5);

    clock = new Date('2026-11-26T16:00:00Z'); // Thanksgiving
    const closed = (await request(app).get('/api/schedules/desk')).body.today;
    expect(closed).toMatchObject({ date: '2026-11-26', session: null, slots: [] });
  });
});

describe("today's timeline and catch-up", () => {
  it('a slot whose catch-up run is queued shows as pending with that job, not missing', async () => {
    clock = new Date('2026-11-27T16:05:00Z');
    const due = Date.parse('2026-11-27T09:30:00-05:00');
    const id = `catchup:desk:QQQ@${due}`;
    await queues['trading-cycle'].add('trading-cycle', { ticker: 'QQQ' }, { jobId: id });
    const d = (await request(app).get('/api/schedules/desk')).body;
    expect(d.today.slots[0].runs.find((r: { ticker: string }) => r.ticker === 'QQQ')).toEqual({ ticker: 'QQQ', status: 'pending', job_id: id });
    await queues['trading-cycle'].remove(id);
  });
});

describe('an unreadable last-run record', () => {
  it('shows as no last run for its ticker; the listing and the detail still answer', async () => {
    await redis.hset(keys.lastRuns, 'desk:QQQ', 'not json', 'desk:SPY', JSON.stringify({ job_id: 'j1', status: 'completed', due_at: 1, finished_at: '2026-11-27T16:00:00.000Z' }));
    try {
      const list = await request(app).get('/api/schedules');
      expect(list.status).toBe(200);
      const desk = list.body.schedules.find((s: { id: string }) => s.id === 'desk');
      expect(desk.runs.map((r: { last_run: { job_id: string } | null }) => r.last_run?.job_id ?? null)).toEqual(['j1', null]);
      expect((await request(app).get('/api/schedules/desk')).status).toBe(200);
    } finally {
      await redis.hdel(keys.lastRuns, 'desk:QQQ', 'desk:SPY');
    }
  });
});

describe('pause notes', () => {
  it('a pause keeps who, when and the note; resume clears them', async () => {
    clock = new Date('2026-11-25T15:00:00Z');
    const paused = await request(app).post('/api/schedules/desk/pause').send({ note: 'earnings tomorrow', by: 'alice' });
    expect(paused.body).toEqual({ schedule_id: 'desk', paused: true, pause: { by: 'alice', at: '2026-11-25T15:00:00.000Z', note: 'earnings tomorrow' } });
    const d = (await request(app).get('/api/schedules/desk')).body;
    expect(d.pause).toEqual({ by: 'alice', at: '2026-11-25T15:00:00.000Z', note: 'earnings tomorrow' });
    expect(d.next_runs[0].runs).toEqual([]);
    const list = (await request(app).get('/api/schedules')).body.schedules;
    expect(list.find((s: { id: string }) => s.id === 'desk').pause.note).toBe('earnings tomorrow');
    const bad = await request(app).post('/api/schedules/desk/pause').send({ note: 'x'.repeat(501) });
    expect(bad.status).toBe(400);
    expect(bad.body.details[0].field).toBe('note');
    await request(app).post('/api/schedules/desk/resume').send({});
    const resumed = (await request(app).get('/api/schedules/desk')).body;
    expect(resumed.paused).toBe(false);
    expect(resumed.pause).toBeNull();
  });
});

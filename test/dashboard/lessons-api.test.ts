import request from 'supertest';
import { afterAll, describe, expect, it } from 'vitest';
import { closeQueues, createRedisConnection, openQueues, productKeys } from '../../src/core/index.ts';
import { createApp } from '../../src/dashboard/index.ts';
import { writeLesson, type Lesson } from '../../src/agents/memory/lesson-log.ts';
import { deletePrefix, silentLogger, testConfig } from '../support/redis-test-env.ts';

const config = testConfig('lessons-api');
const redis = createRedisConnection(config, 'producer');
const queues = openQueues(redis, config.QUEUE_PREFIX);
// The producer connection fails fast instead of queueing commands: wait until it is up.
if (redis.status !== 'ready') await new Promise((r) => redis.once('ready', r));
const app = createApp({ config, logger: silentLogger, redis, keys: productKeys(config.QUEUE_PREFIX), queues, now: () => new Date() });
afterAll(async () => {
  await closeQueues(queues);
  redis.disconnect();
  await deletePrefix(config.QUEUE_PREFIX);
});

const lesson = (job_id: string, ticker: string, date: string, known_on: string): Lesson => ({
  job_id, agent: 'desk', ticker, date, decision: 'BUY', rating: 'Buy', return_5d: -0.02, known_on, lesson: `lesson ${job_id}`, model: 'gpt-5-mini', written_at: '2026-11-20T22:00:00Z',
});

describe('GET /api/agents/:agent/lessons', () => {
  it('lists lessons newest outcome first, filters by ticker, writes one per decision', async () => {
    await writeLesson(redis, config.QUEUE_PREFIX, lesson('a', 'NVDA', '2026-11-03', '2026-11-10'));
    await writeLesson(redis, config.QUEUE_PREFIX, lesson('b', 'AAPL', '2026-11-05', '2026-11-12'));
    expect(await writeLesson(redis, config.QUEUE_PREFIX, { ...lesson('a', 'NVDA', '2026-11-03', '2026-11-10'), lesson: 'again' })).toBe(false);
    const all = await request(app).get('/api/agents/desk/lessons');
    expect(all.status).toBe(200);
    expect(all.body.lessons.map((l: Lesson) => l.job_id)).toEqual(['b', 'a']);
    expect(all.body.lessons[1].lesson).toBe('lesson a');
    const nvda = await request(app).get('/api/agents/desk/lessons?ticker=nvda&limit=5');
    expect(nvda.body.lessons.map((l: Lesson) => l.ticker)).toEqual(['NVDA']);
    expect((await request(app).get('/api/agents/nobody/lessons')).body.lessons).toEqual([]);
  });

  it('names the bad field', async () => {
    const bad = await request(app).get('/api/agents/desk/lessons?limit=0');
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('limit');
    expect((await request(app).get('/api/agents/BAD%20NAME/lessons')).status).toBe(400);
    expect((await request(app).get('/api/agents/desk/lessons?ticker=not%20a%20ticker')).status).toBe(400);
  });
});

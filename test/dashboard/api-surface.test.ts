import request from 'supertest';
import { afterAll, describe, expect, it } from 'vitest';
import { closeQueues, createRedisConnection, openQueues, productKeys, scheduleEntrySchema, type Config } from '../../src/core/index.ts';
import { createApp } from '../../src/dashboard/index.ts';
import { mountBullBoard } from '../../src/dashboard/bull-board.ts';
import { deletePrefix, silentLogger, testConfig, waitFor } from '../support/redis-test-env.ts';

/** The JSON API's surface: what a schedule item carries. */
const configs: Config[] = [];
const closers: Array<() => void | Promise<void>> = [];
afterAll(async () => {
  for (const c of closers.reverse()) await c();
  await Promise.all(configs.map((c) => deletePrefix(c.QUEUE_PREFIX)));
});

async function makeApp(env: Record<string, string> = {}) {
  const config = testConfig('api-surface', env);
  configs.push(config);
  const redis = createRedisConnection(config, 'producer');
  await waitFor(() => redis.status === 'ready');
  const queues = openQueues(redis, config.QUEUE_PREFIX);
  const keys = productKeys(config.QUEUE_PREFIX);
  closers.push(async () => {
    await closeQueues(queues);
    redis.disconnect();
  });
  const app = createApp({ config, logger: silentLogger, redis, keys, queues, now: () => new Date() }, { mount: (a) => mountBullBoard(a, queues, false, config.BASE_PATH) });
  return { app, redis, keys };
}

describe('schedule items', () => {
  it("carry the schedule file's description, or null when the entry has none, as the document says", async () => {
    const { app: withSchedules, redis, keys } = await makeApp();
    const described = scheduleEntrySchema.parse({ id: 'index', agent: 'quant', tickers: ['SPY'], every: '1h', description: 'Index ETFs, hourly in the regular session' });
    const bare = scheduleEntrySchema.parse({ id: 'nightly', agent: 'quant', ticker: 'QQQ', cron: '0 18 * * 1-5', market_hours: 'always' });
    await redis.hset(keys.schedules, 'index', JSON.stringify(described), 'nightly', JSON.stringify(bare));
    const list = await request(withSchedules).get('/api/schedules');
    expect(list.status).toBe(200);
    const byId = Object.fromEntries(list.body.schedules.map((s: { id: string }) => [s.id, s]));
    expect(byId.index).toHaveProperty('description', 'Index ETFs, hourly in the regular session');
    expect(byId.nightly).toHaveProperty('description', null);
    expect((await request(withSchedules).get('/api/schedules/nightly')).body).toHaveProperty('description', null);
    const schema = (await request(withSchedules).get('/api/openapi.json')).body.components.schemas.Schedule;
    expect(schema.properties.description).toMatchObject({ type: 'string', nullable: true, maxLength: 500 });
  });
});

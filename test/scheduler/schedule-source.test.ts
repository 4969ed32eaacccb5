import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import request from 'supertest';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createRedisConnection, openQueues, productKeys, closeQueues } from '../../src/core/index.ts';
import { createApp } from '../../src/dashboard/index.ts';
import { readPublishedSource, readSourceConflicts, scheduleTextHash, startScheduler, type SchedulerService } from '../../src/scheduler/index.ts';
import { deletePrefix, silentLogger, testConfig, TEST_REDIS_URL, waitFor } from '../support/redis-test-env.ts';

/**
 * One schedule source across schedulers (each "host" here is a scheduler with its own copy of the
 * file, in its own directory): a differing copy never overwrites the published schedule.
 */
const base = testConfig('source');
const keys = productKeys(base.QUEUE_PREFIX);
const redis = createRedisConnection(base, 'worker');
const queues = openQueues(redis, base.QUEUE_PREFIX);
const running: SchedulerService[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.stop()));
});
afterAll(async () => {
  await closeQueues(queues);
  redis.disconnect();
  await deletePrefix(base.QUEUE_PREFIX);
});

const yaml = (...ids: string[]) => `schedules:\n${ids.map((id) => `  - { id: ${id}, agent: quant, ticker: SPY, every: 1h, market_hours: always }\n`).join('')}`;

function hostFile(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'tl-source-')), 'schedules.yaml');
  writeFileSync(file, text);
  return file;
}

function capturingLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({ write: (chunk: Buffer, _e, cb) => (lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>), cb()) });
  return { logger: pino({ level: 'info' }, stream), lines };
}

async function start(file: string, logger = silentLogger): Promise<SchedulerService> {
  const s = await startScheduler({ ...base, SCHEDULES_FILE: file }, logger, { tickMs: 150, leaseTtlMs: 1_000, pollMs: 100 });
  running.push(s);
  return s;
}

const schedulerKeys = async () => (await queues['trading-cycle'].getJobSchedulers(0, -1, true)).map((s) => s.key).sort();

function cli(args: string[], file: string): Promise<{ code: number; out: string; err: string }> {
  const env = { ...process.env, REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: base.QUEUE_PREFIX, SCHEDULES_FILE: file, LOG_LEVEL: 'silent' };
  return new Promise((resolve) => {
    execFile(process.execPath, ['bin/tradeloop.mjs', ...args], { env, encoding: 'utf8', timeout: 60_000 }, (err, out, errOut) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, out, err: errOut }),
    );
  });
}

describe('one schedule source', () => {
  it('a new leader with a stale file runs the published schedule, says so with both hashes, and an edit on the leader wins', async () => {
    const fresh = hostFile(yaml('alpha', 'beta'));
    const stale = hostFile(yaml('alpha'));
    const a = await start(fresh);
    expect(a.isLeader()).toBe(true);
    const published = await readPublishedSource(redis, keys);
    expect(published?.hash).toBe(scheduleTextHash(yaml('alpha', 'beta')));
    expect(await schedulerKeys()).toEqual(['alpha:SPY', 'beta:SPY']);

    const { logger, lines } = capturingLogger();
    const b = await start(stale, logger);
    expect(b.isLeader()).toBe(false);
    const staleHash = scheduleTextHash(yaml('alpha'));
    // The follower already reports the difference, in /readyz and in `tradeloop schedules`.
    const conflicts = await waitFor(async () => {
      const c = await readSourceConflicts(redis, keys, new Date());
      return c.length === 1 ? c : null;
    }, 5_000);
    expect(conflicts[0]).toMatchObject({ local_hash: staleHash, published_hash: published!.hash, leader: false });
    const app = createApp({ config: base, logger: silentLogger, redis, keys, queues, now: () => new Date() });
    const ready = await request(app).get('/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body.schedule_hash).toBe(published!.hash);
    expect(ready.body.schedule_source_conflicts[0].error).toContain(staleHash.slice(0, 12));
    const listed = await cli(['schedules'], stale);
    expect(listed.out).toMatch(new RegExp(`ERROR: scheduler .*${staleHash.slice(0, 12)}.*${published!.hash.slice(0, 12)}`));
    const diff = await cli(['schedules', 'diff'], stale);
    expect(diff.code).toBe(1);
    expect(diff.out).toContain('-  - { id: beta, agent: quant, ticker: SPY, every: 1h, market_hours: always }');
    expect((await cli(['schedules', 'diff'], fresh)).code).toBe(0);

    // The leader goes; the stale scheduler takes the lead and keeps what was published.
    await a.stop();
    running.splice(running.indexOf(a), 1);
    await waitFor(() => b.isLeader() && b.running()?.hash === published!.hash, 10_000);
    await new Promise((r) => setTimeout(r, 500));
    expect(await schedulerKeys()).toEqual(['alpha:SPY', 'beta:SPY']);
    expect((await readPublishedSource(redis, keys))?.hash).toBe(published!.hash);
    const error = lines.find((l) => l.level === 50 && l.localHash === staleHash && l.publishedHash === published!.hash);
    expect(String(error?.msg)).toMatch(/has hash .* the published schedule has/);
    await waitFor(async () => (await readSourceConflicts(redis, keys, new Date()))[0]?.leader === true, 5_000);

    // An operator's edit of the leader's file is the new source.
    writeFileSync(stale, yaml('alpha', 'gamma'));
    await waitFor(async () => (await readPublishedSource(redis, keys))?.hash === scheduleTextHash(yaml('alpha', 'gamma')), 10_000);
    await waitFor(async () => (await schedulerKeys()).join() === 'alpha:SPY,gamma:SPY', 10_000);
    await waitFor(async () => (await readSourceConflicts(redis, keys, new Date())).length === 0, 5_000);

    // `tradeloop schedules publish` from another host's copy: the leader runs it and reports its own file as differing.
    const other = hostFile(yaml('delta'));
    const pub = await cli(['schedules', 'publish'], other);
    expect(pub.code).toBe(0);
    await waitFor(async () => (await schedulerKeys()).join() === 'delta:SPY', 10_000);
    const after = await waitFor(async () => (await readSourceConflicts(redis, keys, new Date()))[0], 5_000);
    expect(after).toMatchObject({ leader: true, published_hash: scheduleTextHash(yaml('delta')), local_hash: scheduleTextHash(yaml('alpha', 'gamma')) });
  }, 60_000);

  it('a restart on the same host and path after an edit publishes the edited file', async () => {
    await deletePrefix(base.QUEUE_PREFIX);
    const file = hostFile(yaml('one'));
    const first = await start(file);
    await first.stop();
    running.splice(0);
    writeFileSync(file, yaml('one', 'two'));
    const again = await start(file);
    expect(again.isLeader()).toBe(true);
    expect((await readPublishedSource(redis, keys))?.hash).toBe(scheduleTextHash(yaml('one', 'two')));
    expect(await schedulerKeys()).toEqual(['one:SPY', 'two:SPY']);
  });
});

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { createRedisConnection, productKeys, ZERO_USAGE, type CycleResult } from '../../src/core/index.ts';
import { writeJsonAtomically } from '../../src/tasks/file-write-thread.ts';
import { OnceWrites } from '../../src/tasks/once-writes.ts';
import { createResultFileWriter, pendingResultFilesKey, recoverResultFiles } from '../../src/tasks/result-files.ts';
import { deletePrefix, silentLogger, testConfig } from '../support/redis-test-env.ts';

/** Result files written after the job, from a bounded queue, with the result kept in Redis until filed. */
const config = testConfig('result-files');
const redis = createRedisConnection(config, 'worker');
const keys = productKeys(config.QUEUE_PREFIX);
const dir = mkdtempSync(join(tmpdir(), 'tl-result-files-'));

const result = (ticker: string, decision: CycleResult['decision'] = 'HOLD'): CycleResult => ({
  ticker, date: '2026-01-02', agent: 'quant', decision, rating: 'Hold', confidence: 0.5, price: 100,
  reports: { market: '', fundamentals: '', news: '', sentiment: '', debate: '', trader: '', risk: '', final: '' },
  indicators: {}, data_source: 'test', engine: 'quant', models: [], usage: ZERO_USAGE, started_at: '2026-01-02T15:00:00.000Z', finished_at: '2026-01-02T15:00:01.000Z', dry_run: true, fill: null,
});
const fileOf = (ticker: string, jobId: string) => join(dir, ticker, '2026-01-02', `${jobId}.json`);

afterAll(async () => {
  redis.disconnect();
  await deletePrefix(config.QUEUE_PREFIX);
  rmSync(dir, { recursive: true, force: true });
});

describe('result files off the critical path', () => {
  it('writes queued files (the newest result of a job id), then removes their pending entries in Redis', async () => {
    const writer = createResultFileWriter({ dir, logger: silentLogger, pending: { redis, keys } });
    // As the end-of-job Lua call leaves them: the result kept until its file is written.
    await new OnceWrites().keepResult(pendingResultFilesKey(keys), 'job-a', result('AAA')).keepResult(pendingResultFilesKey(keys), 'job-b', result('BBB')).send(redis);
    expect(await redis.hlen(pendingResultFilesKey(keys))).toBe(2);
    await writer.write('job-a', result('AAA', 'BUY'));
    await writer.write('job-b', result('BBB'));
    await writer.write('job-a', result('AAA', 'SELL'));
    await writer.flush();
    expect(JSON.parse(readFileSync(fileOf('AAA', 'job-a'), 'utf8'))).toMatchObject({ job_id: 'job-a', decision: 'SELL' });
    expect(existsSync(fileOf('BBB', 'job-b'))).toBe(true);
    expect(await redis.hlen(pendingResultFilesKey(keys))).toBe(0);
    expect(writer.pending()).toBe(0);
  });

  it('a folder that cannot be made: retried, then logged and given up; the write never throws', async () => {
    const lines: Array<{ msg: string; jobId?: string }> = [];
    const logger = pino({ level: 'warn' }, { write: (s: string) => void lines.push(JSON.parse(s) as { msg: string }) });
    const writer = createResultFileWriter({ dir, logger, retryMs: 300 });
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'BLOCK'), 'not a folder');
    await expect(writer.write('job-c', result('BLOCK'))).resolves.toBeUndefined();
    await writer.flush();
    expect(lines.map((l) => l.msg)).toEqual(['result file not written yet; retrying', 'result file not written; the result stays in Redis (GET /api/jobs/:id/result)']);
    rmSync(join(dir, 'BLOCK'));
  });

  it('a bounded queue: a writer at capacity makes the next job wait for room, and loses nothing', async () => {
    const writer = createResultFileWriter({ dir, logger: silentLogger, capacity: 2 });
    await Promise.all(Array.from({ length: 12 }, (_, i) => writer.write(`job-q${i}`, result('QQQ'))));
    await writer.flush();
    for (let i = 0; i < 12; i++) expect(existsSync(fileOf('QQQ', `job-q${i}`))).toBe(true);
  });

  it('a worker killed before writing: its entries are written by the recovery pass, young ones are left to their writer', async () => {
    const key = pendingResultFilesKey(keys);
    await new OnceWrites().keepResult(key, 'job-old', result('OLD'), Date.now() - 120_000).keepResult(key, 'job-new', result('NEW')).send(redis);
    const writer = createResultFileWriter({ dir, logger: silentLogger, pending: { redis, keys } });
    expect(await recoverResultFiles(redis, keys, writer, 60_000)).toBe(1);
    await writer.flush();
    expect(existsSync(fileOf('OLD', 'job-old'))).toBe(true);
    expect(existsSync(fileOf('NEW', 'job-new'))).toBe(false);
    expect(await redis.hkeys(key)).toEqual(['job-new']);
  });
});

describe('the file-write thread', () => {
  it('writes atomically, keeps a process alive only while a write is pending, and reports a failure with its code', async () => {
    // A process with nothing else to do: it must neither exit before its write lands nor hang after it.
    const path = join(dir, 'thread', 'alone.json');
    const script = `import { writeJsonAtomically } from ${JSON.stringify(join(process.cwd(), 'src/tasks/file-write-thread.ts'))}; void writeJsonAtomically(${JSON.stringify(join(dir, 'thread'))}, ${JSON.stringify(path)}, ${JSON.stringify(path + '.tmp')}, '{"ok":true}');`;
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { timeout: 30_000, encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({ ok: true });
    expect(existsSync(`${path}.tmp`)).toBe(false);
    // A folder that cannot be made (a file stands where it would go): the error carries its code.
    writeFileSync(join(dir, 'a-file'), 'x');
    const failed = await writeJsonAtomically(join(dir, 'a-file', 'sub'), join(dir, 'a-file', 'sub', 'x.json'), join(dir, 'a-file', 'sub', 'x.tmp'), '{}').catch((e: NodeJS.ErrnoException) => e);
    expect(failed).toBeInstanceOf(Error);
    expect((failed as NodeJS.ErrnoException).code).toMatch(/^E[A-Z]+$/);
  });

  it('writes asked for in one turn go to the thread together, and one that fails leaves the others written', async () => {
    writeFileSync(join(dir, 'in-the-way'), 'x');
    const folder = join(dir, 'together');
    const writes = Array.from({ length: 30 }, (_, i) => {
      // The 8th cannot be written: a file stands where its folder would go.
      const f = i === 7 ? join(dir, 'in-the-way', 'sub') : folder;
      return writeJsonAtomically(f, join(f, `${i}.json`), join(f, `${i}.tmp`), JSON.stringify({ i })).then(() => 'ok', (e: NodeJS.ErrnoException) => e.code ?? 'error');
    });
    const outcomes = await Promise.all(writes);
    expect(outcomes.filter((o) => o === 'ok')).toHaveLength(29);
    expect(outcomes[7]).toMatch(/^E[A-Z]+$/);
    for (let i = 0; i < 30; i++) if (i !== 7) expect(JSON.parse(readFileSync(join(folder, `${i}.json`), 'utf8'))).toEqual({ i });
  });
});

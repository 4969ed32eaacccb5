import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { deletePrefix, TEST_REDIS_URL, uniquePrefix, waitFor } from '../support/redis-test-env.ts';

const prefix = uniquePrefix('npm-start');
const dir = mkdtempSync(join(tmpdir(), 'tl-start-'));
const schedules = join(dir, 'schedules.yaml');
writeFileSync(schedules, 'schedules:\n  - id: heartbeat\n    agent: quant\n    ticker: SPY\n    every: 1s\n    market_hours: always\n');

afterAll(() => deletePrefix(prefix));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('npm start (launcher, real processes)', () => {
  it('runs scheduler, worker and dashboard; a scheduled and an API cycle complete; SIGTERM leaves nothing behind', async () => {
    const child = spawn(process.execPath, ['bin/start.mjs'], {
      env: { ...process.env, REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: prefix, PORT: '0', SCHEDULES_FILE: schedules, LOG_FORMAT: 'json', RESULTS_DIR: join(dir, 'results'), MARKET_DATA: 'simulated' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: Array<Record<string, unknown>> = [];
    let buffer = '';
    child.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const parts = buffer.split('\n');
      buffer = parts.pop()!;
      for (const line of parts) {
        try {
          lines.push(JSON.parse(line) as Record<string, unknown>);
        } catch {
          // not a log line
        }
      }
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    try {
      const listening = await waitFor(() => lines.find((l) => typeof l.url === 'string' && l.name === 'dashboard'), 20_000);
      const base = listening.url as string;
      const scheduled = await waitFor(() => lines.find((l) => l.msg === 'cycle completed' && String(l.jobId).startsWith('repeat:heartbeat:SPY:')), 20_000);
      const viaApi = (await (await fetch(`${base}/api/jobs/${encodeURIComponent(String(scheduled.jobId))}`)).json()) as Record<string, unknown>;
      expect(viaApi).toMatchObject({ status: 'completed', schedule_id: 'heartbeat', trigger: 'schedule', ticker: 'SPY' });

      const posted = (await (await fetch(`${base}/api/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ticker: 'AAPL' }) })).json()) as { job_id: string };
      const result = await waitFor(async () => {
        const r = await fetch(`${base}/api/jobs/${posted.job_id}/result`);
        return r.status === 200 ? ((await r.json()) as Record<string, unknown>) : null;
      }, 20_000);
      expect(['BUY', 'SELL', 'HOLD']).toContain(result.decision);
    } finally {
      const pids = [...new Set(lines.map((l) => Number(l.pid)).filter(Boolean))];
      expect(pids.length).toBeGreaterThanOrEqual(3);
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      await waitFor(() => pids.every((pid) => !alive(pid)), 10_000);
      expect(stderr).toContain('stopping');
    }
  }, 60_000);
});

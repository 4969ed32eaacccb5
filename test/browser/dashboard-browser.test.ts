import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { CHROMIUM } from '../support/global-setup.ts';
import { deletePrefix, TEST_REDIS_URL, uniquePrefix, waitFor } from '../support/redis-test-env.ts';


const prefix = uniquePrefix('browser');
const dir = mkdtempSync(join(tmpdir(), 'tl-browser-'));
writeFileSync(
  join(dir, 'schedules.yaml'),
  'schedules:\n  - { id: desk, agent: quant, tickers: [AAPL], every: 1h, market_hours: regular }\n',
);
let browser: Browser | undefined;
const child = spawn(process.execPath, ['bin/start.mjs'], {
  env: { ...process.env, REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: prefix, PORT: '0', SCHEDULES_FILE: join(dir, 'schedules.yaml'), LOG_FORMAT: 'json', RESULTS_DIR: join(dir, 'results'), MARKET_DATA: 'simulated' },
  stdio: ['ignore', 'pipe', 'inherit'],
});
let out = '';
child.stdout!.on('data', (c: Buffer) => (out += c.toString()));

afterAll(async () => {
  await browser?.close();
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  await deletePrefix(prefix);
});

describe('dashboard in a real browser (headless Chromium)', () => {
  it('shows schedules and market status, triggers a cycle that completes live, and finds it in Bull Board', async () => {
    expect(existsSync(CHROMIUM)).toBe(true); // the test setup installs Debian's chromium or stops the run
    const url = await waitFor(() => /"url":"(http:\/\/[^"]+)"/.exec(out)?.[1], 20_000);
    await waitFor(async () => (await fetch(`${url}/readyz`)).status === 200, 20_000);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'] });
    const page = await browser.newPage({ viewport: { width: 1400, height: 1200 } });
    await page.goto(url, { waitUntil: 'domcontentloaded' });
    const row = page.locator('tr[data-schedule="desk"]');
    await row.waitFor({ timeout: 15_000 });
    await page.locator('#market.open, #market.closed').waitFor({ timeout: 10_000 });
    expect(await page.locator('#market').textContent()).toMatch(/market (open|closed)/);
    expect(await row.textContent()).toContain('AAPL');
    await page.locator('#live.on').waitFor({ timeout: 10_000 });

    await row.locator('button[data-act="trigger"]').click();
    // The cycle appears and completes without a reload (SSE).
    const cycle = page.locator('#recent tr[data-job] >> text=AAPL').first();
    await cycle.waitFor({ timeout: 20_000 });
    const done = page.locator('#recent tr[data-job]:has-text("AAPL") td.status-completed');
    await done.first().waitFor({ timeout: 30_000 });
    const jobId = await page.locator('#recent tr[data-job]:has-text("AAPL")').first().getAttribute('data-job');
    expect(jobId).toBeTruthy();
    mkdirSync('test-artifacts', { recursive: true });
    await page.screenshot({ path: 'test-artifacts/dashboard-overview.png', fullPage: true });

    await page.goto(`${url}/admin/queues/queue/trading-cycle-priority?status=completed`, { waitUntil: 'domcontentloaded' });
    await page.locator(`text=${jobId!.slice(0, 8)}`).first().waitFor({ timeout: 20_000 });
    await page.screenshot({ path: 'test-artifacts/bull-board.png' });
  }, 90_000);
});

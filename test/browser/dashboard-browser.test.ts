import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeQueues, createRedisConnection, openQueues, productKeys } from '../../src/core/index.ts';
import { createApp } from '../../src/dashboard/index.ts';
import { CHROMIUM } from '../support/global-setup.ts';
import { deletePrefix, silentLogger, testConfig, TEST_REDIS_URL, uniquePrefix, waitFor } from '../support/redis-test-env.ts';

/** Every page of the dashboard in headless Chromium against the real product (`npm start`), screenshots in test-artifacts/. */
const ARTIFACTS = 'test-artifacts';
const prefix = uniquePrefix('browser');
const dir = mkdtempSync(join(tmpdir(), 'tl-browser-'));
writeFileSync(join(dir, 'schedules.yaml'), 'schedules:\n  - { id: desk, agent: quant, tickers: [AAPL], every: 1h, market_hours: regular }\n');
let browser: Browser;
let url = '';
const dialogs: string[] = [];
const pageErrors: string[] = [];
const child = spawn(process.execPath, ['bin/start.mjs'], {
  env: { ...process.env, REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: prefix, PORT: '0', SCHEDULES_FILE: join(dir, 'schedules.yaml'), LOG_FORMAT: 'json', RESULTS_DIR: join(dir, 'results'), MARKET_DATA: 'simulated' },
  stdio: ['ignore', 'pipe', 'inherit'],
});
let out = '';
child.stdout!.on('data', (c: Buffer) => (out += c.toString()));

async function newPage(): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1100 } });
  // Messages are toasts: a native dialog (alert/confirm) anywhere fails the test below.
  page.on('dialog', (d) => (dialogs.push(d.message()), void d.dismiss()));
  page.on('pageerror', (e) => pageErrors.push(e.message));
  return page;
}
const shot = (page: Page, name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
const postJob = async (body: Record<string, unknown>) => (await (await fetch(`${url}/api/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })).json()) as { job_id: string };
const jobStatus = async (id: string) => ((await (await fetch(`${url}/api/jobs/${id}`)).json()) as { status: string }).status;

beforeAll(async () => {
  expect(existsSync(CHROMIUM)).toBe(true); // the test setup installs Debian's chromium or stops the run
  mkdirSync(ARTIFACTS, { recursive: true });
  url = await waitFor(() => /"url":"(http:\/\/[^"]+)"/.exec(out)?.[1], 20_000);
  await waitFor(async () => (await fetch(`${url}/readyz`)).status === 200, 20_000);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'] });
}, 60_000);
afterAll(async () => {
  await browser?.close();
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  await deletePrefix(prefix);
});

describe('dashboard in a real browser (headless Chromium)', () => {
  let jobId = '';

  it('overview: schedules, market status, a triggered cycle completing live with a toast, throughput from the server in New York time', async () => {
    const page = await newPage();
    await page.goto(url, { waitUntil: 'domcontentloaded' });
    const row = page.locator('tr[data-schedule="desk"]');
    await row.waitFor({ timeout: 15_000 });
    await page.locator('#market.open, #market.closed').waitFor({ timeout: 10_000 });
    expect(await page.locator('#market').textContent()).toMatch(/market (open|closed)/);
    expect(await row.textContent()).toContain('AAPL');
    await page.locator('#live.on').waitFor({ timeout: 10_000 });

    await row.locator('button[data-act="trigger"]').click();
    await page.locator('.toast.success', { hasText: 'Triggered desk: 1 cycle(s)' }).waitFor({ timeout: 10_000 });
    // The cycle appears and completes without a reload (SSE).
    const done = page.locator('#recent tr[data-job]:has-text("AAPL") td.status-completed');
    await done.first().waitFor({ timeout: 30_000 });
    jobId = (await page.locator('#recent tr[data-job]:has-text("AAPL")').first().getAttribute('data-job'))!;
    expect(jobId).toBeTruthy();

    // The chart's counts are the server's (Redis counters), and its axis is drawn in New York time.
    const stats = await waitFor(async () => {
      const s = (await (await fetch(`${url}/api/stats/throughput?range=1h`)).json()) as { totals: { completed: number }; buckets: unknown[]; time_zone: string };
      return s.totals.completed >= 1 ? s : null;
    }, 10_000);
    expect(stats.time_zone).toBe('America/New_York');
    await page.locator('#throughput .uplot').waitFor({ timeout: 10_000 });
    expect(Number(await page.locator('#throughput').getAttribute('data-buckets'))).toBe(stats.buckets.length);
    const hour = await page.evaluate(() => (window as unknown as { TL: { nyDate: (t: number) => Date } }).TL.nyDate(Date.UTC(2026, 0, 5, 15, 0) / 1000).getHours());
    expect(hour).toBe(10); // 15:00 UTC is 10:00 in New York in January
    await page.locator('.ranges button[data-range="24h"]').click();
    await page.locator('.ranges button.on[data-range="24h"]').waitFor({ timeout: 10_000 });
    expect(await page.locator('.chart-head').textContent()).toContain('per 15m');
    await shot(page, 'overview');
    await page.close();
  }, 90_000);

  it('jobs explorer: filters, cursor paging, row actions and error toasts', async () => {
    const ids: string[] = [];
    for (const ticker of ['MSFT', 'MSFT', 'MSFT', 'NVDA']) ids.push((await postJob({ ticker })).job_id);
    await waitFor(async () => (await Promise.all(ids.map(jobStatus))).every((s) => s === 'completed'), 30_000);
    const page = await newPage();
    await page.goto(`${url}/jobs?ticker=MSFT&limit=2`, { waitUntil: 'domcontentloaded' });
    const rows = page.locator('#jobs-table tbody tr[data-job]');
    await rows.first().waitFor({ timeout: 10_000 });
    expect(await rows.count()).toBe(2);
    const firstPage = await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-job')));
    await page.locator('button[data-page="older"]').click();
    await page.locator('#page-no', { hasText: 'page 2' }).waitFor({ timeout: 10_000 });
    const secondPage = await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-job')));
    expect(secondPage).toHaveLength(1);
    expect([...firstPage, ...secondPage].sort()).toEqual(ids.slice(0, 3).sort());
    expect(await page.locator('button[data-page="older"]').isDisabled()).toBe(true);
    await page.locator('button[data-page="newer"]').click();
    await page.locator('#page-no', { hasText: 'page 1' }).waitFor({ timeout: 10_000 });
    expect(await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-job')))).toEqual(firstPage);

    // Every row is MSFT; a decision filter keeps only that decision; each row links to its page and Bull Board.
    for (const t of await page.locator('#jobs-table tbody tr td:nth-child(2)').allTextContents()) expect(t).toBe('MSFT');
    const decision = (await (await fetch(`${url}/api/jobs/${ids[0]}`)).json()).decision as string;
    await page.selectOption('select[name="decision"]', decision);
    await page.selectOption('select[name="status"]', 'completed');
    await page.fill('input[name="ticker"]', '');
    await page.locator('#filters button[type="submit"]').click();
    await page.waitForURL(/decision=/);
    await waitFor(async () => (await page.locator('#jobs-table tbody tr[data-job]').count()) > 0, 10_000);
    for (const t of await page.locator('#jobs-table tbody tr td:nth-child(6)').allTextContents()) expect(t).toBe(decision);
    // The filtered view is in the address: opened afresh (default page size) it lists the job, with its links.
    await page.goto(`${url}/jobs?status=completed&decision=${decision}`, { waitUntil: 'domcontentloaded' });
    await page.locator(`#jobs-table tr[data-job="${ids[0]}"]`).waitFor({ timeout: 10_000 });
    expect(await page.locator('select[name="decision"]').inputValue()).toBe(decision);
    expect(await page.locator(`#jobs-table tr[data-job="${ids[0]}"] a[href="/jobs/${ids[0]}"]`).count()).toBe(1);
    expect(await page.locator(`#jobs-table tr[data-job="${ids[0]}"] a[href*="/admin/queues/queue/"]`).count()).toBe(1);

    // A bad range is refused by the API and shown as an error toast naming the field.
    await page.fill('input[name="from"]', '2026-11-20');
    await page.fill('input[name="to"]', '2026-11-19');
    await page.locator('#filters button[type="submit"]').click();
    await page.locator('.toast.error', { hasText: 'to: must be after from' }).waitFor({ timeout: 10_000 });
    await page.locator('#filters button[data-clear]').click();
    await page.locator('#page-no', { hasText: 'page 1' }).waitFor({ timeout: 10_000 });
    await waitFor(async () => (await page.locator('#jobs-table tbody tr[data-job]').count()) >= 5, 10_000);
    await shot(page, 'jobs-explorer');
    await page.close();
  }, 90_000);

  it('job page: markdown reports sanitised, candlesticks with the indicators, decision and fill markers', async () => {
    const page = await newPage();
    await page.goto(`${url}/jobs/${encodeURIComponent(jobId)}`, { waitUntil: 'domcontentloaded' });
    await page.locator('[data-testid="job-status"].status-completed').waitFor({ timeout: 15_000 });
    const chart = page.locator('#job-chart[data-bars]');
    await chart.waitFor({ timeout: 15_000 });
    const bars = (await (await fetch(`${url}/api/jobs/${encodeURIComponent(jobId)}/bars`)).json()) as { bars: unknown[]; decision: string; bars_from: string; fill: { side: string } | null };
    expect(bars.bars_from).toBe('result');
    expect(Number(await chart.getAttribute('data-bars'))).toBe(bars.bars.length);
    expect(bars.bars.length).toBeGreaterThan(100);
    expect(await chart.getAttribute('data-lines')).toMatch(/sma50/);
    const markers = (await chart.getAttribute('data-markers'))!;
    expect(markers.startsWith(bars.decision)).toBe(true);
    if (bars.fill) expect(markers).toContain(`fill ${bars.fill.side}`);
    expect(await page.locator('#job-chart canvas').count()).toBeGreaterThan(0);
    // Reports are HTML from markdown, not raw text.
    expect(await page.locator('.report.markdown[data-report="final"] p').count()).toBeGreaterThan(0);
    const rendered = await page.evaluate(() =>
      (window as unknown as { TL: { renderMarkdown: (s: string) => string } }).TL.renderMarkdown('| a | b |\n|---|---|\n| 1 | 2 |\n\n<img src=x onerror="window.pwned=1"><script>window.pwned=2</script>**bold**'),
    );
    expect(rendered).toContain('<table>');
    expect(rendered).toContain('<strong>bold</strong>');
    expect(rendered).not.toMatch(/onerror|<script/);
    await shot(page, 'job-page');
    await page.close();
  }, 60_000);

  it('Bull Board: finds the job and links back to the overview', async () => {
    const page = await newPage();
    await page.goto(`${url}/admin/queues/queue/trading-cycle-priority?status=completed`, { waitUntil: 'domcontentloaded' });
    await page.locator(`text=${jobId.slice(0, 8)}`).first().waitFor({ timeout: 20_000 });
    await shot(page, 'bull-board');
    // Its header's last menu holds the misc links.
    await page.locator('header ul[class*="actions"] > li:last-child button').click();
    const back = page.locator('a', { hasText: 'tradeloop overview' });
    await back.waitFor({ timeout: 10_000 });
    expect(await back.getAttribute('href')).toBe('/');
    await page.close();
  }, 60_000);

  it('login page (with a token): a wrong token is refused, the right one opens the overview', async () => {
    const config = testConfig('browser-login', { DASHBOARD_TOKEN: 'correct-horse-battery-staple' });
    const redis = createRedisConnection(config, 'producer');
    const queues = openQueues(redis, config.QUEUE_PREFIX);
    const app = createApp({ config, logger: silentLogger, redis, keys: productKeys(config.QUEUE_PREFIX), queues, now: () => new Date() });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const page = await newPage();
      await page.goto(`${base}/jobs`, { waitUntil: 'domcontentloaded' });
      expect(page.url()).toContain('/login?next=%2Fjobs');
      await page.fill('input[name="token"]', 'wrong-token-wrong-token');
      await page.click('button[type="submit"]');
      await page.locator('p.error', { hasText: 'That token is not right.' }).waitFor({ timeout: 10_000 });
      await shot(page, 'login');
      await page.fill('input[name="token"]', 'correct-horse-battery-staple');
      await page.click('button[type="submit"]');
      await page.locator('#filters').waitFor({ timeout: 10_000 });
      expect(new URL(page.url()).pathname).toBe('/jobs');
      await page.close();
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await closeQueues(queues);
      redis.disconnect();
      await deletePrefix(config.QUEUE_PREFIX);
    }
  }, 60_000);

  it('raised no native dialog and no script error on any page', () => {
    expect(dialogs).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});

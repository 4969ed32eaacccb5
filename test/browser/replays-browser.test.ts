import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { productKeys } from '../../src/core/index.ts';
import { defaultAnswer, startFakeOpenAI } from '../support/fake-openai-server.ts';
import { deletePrefix, TEST_REDIS_URL, uniquePrefix, waitFor } from '../support/redis-test-env.ts';

const CHROMIUM = '/usr/bin/chromium';
const prefix = uniquePrefix('replays-browser');
const dir = mkdtempSync(join(tmpdir(), 'tl-replays-browser-'));
writeFileSync(
  join(dir, 'schedules.yaml'),
  'agents:\n  cautious: { engine: quant, portfolio: { starting_cash: 50000, target_percent: 0.05, commission_per_trade: 1, slippage_bps: 5 } }\n' +
    '  silent: { engine: llm, quick_model: local-small, deep_model: local-small, analysts: [market], debate_rounds: 0, risk_rounds: 0 }\nschedules:\n  - { id: desk, agent: quant, tickers: [AAPL], every: 1h, market_hours: regular, enabled: false }\n',
);
let browser: Browser | undefined;
// The `silent` desk's model is priced, but its server answers without usage: its cost is not known.
const llm = await startFakeOpenAI((r) => ({ content: defaultAnswer(r.role), usage: null }));
const child = spawn(process.execPath, ['bin/start.mjs'], {
  env: { ...process.env, REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: prefix, PORT: '0', SCHEDULES_FILE: join(dir, 'schedules.yaml'), LOG_FORMAT: 'json', RESULTS_DIR: join(dir, 'results'), MARKET_DATA: 'simulated', OPENAI_BASE_URL: llm.baseURL, LLM_PRICES: JSON.stringify({ 'local-small': { input: 1, output: 2 } }) },
  stdio: ['ignore', 'pipe', 'inherit'],
});
let out = '';
child.stdout!.on('data', (c: Buffer) => (out += c.toString()));

afterAll(async () => {
  await browser?.close();
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  await llm.close();
  await deletePrefix(prefix);
});

describe('replays page in a real browser', () => {
  it('shows a replay with live progress, equity curves and the comparison drawn, with the tables under them', async () => {
    const url = await waitFor(() => /"url":"(http:\/\/[^"]+)"/.exec(out)?.[1], 30_000);
    await waitFor(async () => (await fetch(`${url}/readyz`)).status === 200, 30_000);
    const res = await fetch(`${url}/api/replays`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ profiles: ['quant', 'cautious'], tickers: ['AAPL'], from: '2025-10-01', to: '2025-10-31' }) });
    expect(res.status).toBe(202);
    const { replay_id: id } = (await res.json()) as { replay_id: string };
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'] });
    const page = await browser.newPage({ viewport: { width: 1400, height: 1400 } });
    await page.goto(`${url}/replays/${id}`, { waitUntil: 'domcontentloaded' });
    const row = page.locator(`tr[data-replay="${id}"]`);
    await row.waitFor({ timeout: 15_000 });
    // Progress moves without a reload, then the replay ends done: 23 sessions × 2 profiles.
    await page.locator(`tr[data-replay="${id}"] .replay-status:text("done")`).waitFor({ timeout: 90_000 });
    expect(await row.locator('.replay-progress').textContent()).toBe('46/46');
    await page.locator('#equity-chart canvas').waitFor({ timeout: 10_000 });
    await page.locator('#compare-chart canvas').waitFor({ timeout: 10_000 });
    expect(await page.locator('#profiles-table tr[data-profile]').count()).toBe(2);
    expect(await page.locator('#equity-chart .u-legend').textContent()).toContain('cautious buy & hold');
    const pair = page.locator('.compare[data-pair="quant|cautious"]');
    expect(await pair.locator('.agreement').textContent()).toBe('100.00%');
    expect(await pair.locator('table.confusion tbody tr').count()).toBe(3);
    expect(await page.locator('a[href$="report.csv"]').count()).toBe(1);
    mkdirSync('test-artifacts', { recursive: true });
    await page.screenshot({ path: 'test-artifacts/replays.png', fullPage: true });
  }, 150_000);

  it('draws two agents head to head on their live decisions, with the tables under the charts', async () => {
    const url = await waitFor(() => /"url":"(http:\/\/[^"]+)"/.exec(out)?.[1], 30_000);
    // Both agents analyse AAPL today (simulated prices): one shared decision point.
    const ids: string[] = [];
    for (const agent of ['quant', 'cautious']) {
      const res = await fetch(`${url}/api/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ticker: 'AAPL', agent }) });
      expect(res.status).toBe(202);
      ids.push(((await res.json()) as { job_id: string }).job_id);
    }
    for (const id of ids) await waitFor(async () => ((await (await fetch(`${url}/api/jobs/${id}`)).json()) as { status: string }).status === 'completed', 60_000);
    browser ??= await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'] });
    const page = await browser.newPage({ viewport: { width: 1400, height: 1100 } });
    await page.goto(`${url}/compare`, { waitUntil: 'domcontentloaded' });
    await page.fill('#compare-form input[name=a]', 'quant');
    await page.fill('#compare-form input[name=b]', 'cautious');
    await page.click('#compare-form button[type=submit]');
    // Decided today: nothing is scored yet, and the page says so where the charts will be.
    await page.locator('#h2h-chart .pending').waitFor({ timeout: 15_000 });
    expect(await page.locator('#disagree-chart .pending').textContent()).toContain('not disagreed');
    expect(page.url()).toContain('a=quant&b=cautious');
    expect(await page.locator('.h2h-summary .shared').textContent()).toBe('1');
    // The same rules on the same prices: they agree.
    expect(await page.locator('.h2h-summary .agreement').textContent()).toBe('100.0%');
    expect(await page.locator('#h2h-table tr[data-agent]').count()).toBe(2);
    expect(await page.locator('table.confusion tbody tr').count()).toBe(3);
    // A name with no decisions says so instead of drawing nothing.
    await page.goto(`${url}/compare?a=quant&b=nobody`, { waitUntil: 'domcontentloaded' });
    await page.locator('#h2h .error').waitFor({ timeout: 10_000 });
    expect(await page.locator('#h2h .error').textContent()).toContain('nobody');
    // Two desks with scored decisions (as the scorecard stores them once five sessions have closed): drawn.
    const redis = new Redis(TEST_REDIS_URL);
    const scored = (agent: string, i: number, decision: string, r5: number, cost: number) =>
      JSON.stringify({ job_id: `${agent}-${i}`, agent, ticker: 'NVDA', date: `2026-11-0${i + 2}`, price_date: `2026-11-0${i + 2}`, decision, price: 100, models: [], cost_usd: cost, cycle_ms: 900, at: `2026-11-0${i + 2}T20:00:00.000Z`, data_source: 'yahoo', return_1d: r5 / 2, return_5d: r5 });
    const moves = [0.03, -0.02, 0.05, -0.04];
    await redis.hset(productKeys(prefix).custom('scorecard', 'gpt-desk'), Object.fromEntries(moves.map((r, i) => [`gpt-desk-${i}`, scored('gpt-desk', i, ['BUY', 'SELL', 'BUY', 'BUY'][i]!, r, 0.4)])));
    await redis.hset(productKeys(prefix).custom('scorecard', 'local-desk'), Object.fromEntries(moves.map((r, i) => [`local-desk-${i}`, scored('local-desk', i, ['BUY', 'BUY', 'HOLD', 'SELL'][i]!, r, 0)])));
    redis.disconnect();
    await page.goto(`${url}/compare?a=gpt-desk&b=local-desk`, { waitUntil: 'domcontentloaded' });
    await page.locator('#h2h-chart canvas').waitFor({ timeout: 15_000 });
    await page.locator('#disagree-chart canvas').waitFor({ timeout: 5_000 });
    expect(await page.locator('.h2h-summary .agreement').textContent()).toBe('25.0%');
    expect(await page.locator('#h2h-table tr[data-agent="gpt-desk"] td').nth(3).textContent()).toBe('75.0%');
    mkdirSync('test-artifacts', { recursive: true });
    await page.screenshot({ path: 'test-artifacts/compare.png', fullPage: true });
  }, 120_000);

  it('shows a cost that is not fully known as a lower bound with the count of such cycles, never as the total', async () => {
    const url = await waitFor(() => /"url":"(http:\/\/[^"]+)"/.exec(out)?.[1], 30_000);
    const res = await fetch(`${url}/api/replays`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ profiles: ['quant', 'silent'], tickers: ['AAPL'], from: '2025-11-03', to: '2025-11-05' }) });
    expect(res.status).toBe(202);
    const { replay_id: id } = (await res.json()) as { replay_id: string };
    browser ??= await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'] });
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    await page.goto(`${url}/replays/${id}`, { waitUntil: 'domcontentloaded' });
    await page.locator(`tr[data-replay="${id}"] .replay-status:text("done")`).waitFor({ timeout: 90_000 });
    await page.locator('#profiles-table tr[data-profile="silent"]').waitFor({ timeout: 10_000 });
    expect(await page.locator(`tr[data-replay="${id}"] .cost-partial`).textContent()).toBe('≥ $0.0000 (3 unknown)');
    expect(await page.locator('#profiles-table tr[data-profile="silent"] .cost-partial').textContent()).toBe('≥ $0.0000 (3 unknown)');
    expect(await page.locator('#profiles-table tr[data-profile="quant"] .cost-partial').count()).toBe(0);
    expect(await page.locator('.compare[data-pair="quant|silent"]').textContent()).toContain('cost ratio — ($0.0000 vs ≥ $0.0000 (3 unknown))');
  }, 150_000);
});

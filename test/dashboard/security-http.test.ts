import { createHash } from 'node:crypto';
import type { Express } from 'express';
import { Redis } from 'ioredis';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import type { Config } from '../../src/core/index.ts';
import { mountBullBoard } from '../../src/dashboard/bull-board.ts';
import { createApp } from '../../src/dashboard/index.ts';
import { dashboardHarness } from '../support/dashboard-harness.ts';
import { TEST_REDIS_URL } from '../support/redis-test-env.ts';

const TOKEN = 'admin-token-for-security-tests';
const READ_TOKEN = 'read-token-for-security-tests';
const harness = dashboardHarness('security');

async function makeApp(env: Record<string, string> = {}, opts: { live?: boolean } = {}): Promise<{ app: Express; config: Config }> {
  const { deps, config, queues, live } = await harness.open(env, opts);
  const app = createApp(deps, { live, mount: (a) => mountBullBoard(a, queues, false, config.BASE_PATH) });
  return { app, config };
}

async function login(app: Express, token: string, extra: Record<string, string> = {}) {
  const res = await request(app).post('/login').type('form').set(extra).send({ token, next: '/' });
  const cookie = String(res.headers['set-cookie']?.[0] ?? '');
  return { res, cookie, pair: cookie.split(';')[0]! };
}

describe('Host allow-list (DNS rebinding)', () => {
  it('serves loopback names and IP addresses, refuses any other name with 421, admits ALLOWED_HOSTS', async () => {
    const { app } = await makeApp();
    for (const host of ['127.0.0.1:3000', 'localhost:3000', '[::1]:3000', '192.168.1.20:3000', 'app.localhost']) {
      expect((await request(app).get('/api/queues').set('host', host)).status, host).toBe(200);
    }
    const evil = await request(app).get('/api/queues').set('host', 'evil.example');
    expect(evil.status).toBe(421);
    expect(evil.body.details[0].field).toBe('host');
    // Even health and Bull Board are not served to a rebound name.
    expect((await request(app).get('/healthz').set('host', 'evil.example:3000')).status).toBe(421);
    expect((await request(app).get('/admin/queues').set('host', 'evil.example')).status).toBe(421);
    const { app: named } = await makeApp({ ALLOWED_HOSTS: 'dash.example.com, *.corp.example' });
    expect((await request(named).get('/api/queues').set('host', 'dash.example.com')).status).toBe(200);
    expect((await request(named).get('/api/queues').set('host', 'a.corp.example:8443')).status).toBe(200);
    expect((await request(named).get('/api/queues').set('host', 'dash.example.com.evil.example')).status).toBe(421);
  });
});

describe('cross-site writes', () => {
  it('refuses a cross-site or same-site write by Origin or Sec-Fetch-Site, on our API and on Bull Board; curl-style requests pass', async () => {
    const { app } = await makeApp();
    const host = '127.0.0.1:4100';
    const attempts: Array<Record<string, string>> = [
      { origin: 'http://evil.example' },
      { origin: 'null' },
      { origin: 'http://127.0.0.1:8080' }, // another local app: same site, other origin
      { 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'same-site' },
    ];
    for (const headers of attempts) {
      const trigger = await request(app).post('/api/schedules/any/trigger').set('host', host).set(headers).send({});
      expect(trigger.status, JSON.stringify(headers)).toBe(403);
      expect(trigger.body.error).toBe('cross-site request refused');
      const form = await request(app).post('/api/schedules/any/pause').set('host', host).set(headers).type('form').send('x=1');
      expect(form.status).toBe(403);
      const board = await request(app).put('/admin/queues/api/queues/trading-cycle/pause').set('host', host).set(headers);
      expect(board.status).toBe(403);
    }
    // Our own pages (same origin) and clients that are not browsers reach the route (404: no such schedule).
    expect((await request(app).post('/api/schedules/any/trigger').set('host', host).set('origin', `http://${host}`).send({})).status).toBe(404);
    expect((await request(app).post('/api/schedules/any/trigger').set('host', host).set('sec-fetch-site', 'same-origin').send({})).status).toBe(404);
    expect((await request(app).post('/api/schedules/any/trigger').set('host', host).send({})).status).toBe(404);
    // Bull Board's own UI writes (same origin) are not blocked by the guard.
    const boardPause = await request(app).put('/admin/queues/api/queues/trading-cycle/pause').set('host', host).set('sec-fetch-site', 'same-origin');
    expect(boardPause.status).toBeLessThan(400);
    // Reads are never refused for their origin (nobody can read the answer cross-site anyway).
    expect((await request(app).get('/api/queues').set('host', host).set('sec-fetch-site', 'cross-site')).status).toBe(200);
  });
});

describe('login sessions', () => {
  it('keeps a random session id in Redis (not the token), revoked by logout', async () => {
    const { app, config } = await makeApp({ DASHBOARD_TOKEN: TOKEN });
    const { res, cookie, pair } = await login(app, TOKEN);
    expect(res.status).toBe(303);
    expect(cookie).toMatch(/^tl_session=[A-Za-z0-9_-]{43}; HttpOnly; SameSite=Strict; Path=\/; Max-Age=604800$/);
    expect(cookie).not.toContain(TOKEN);
    const id = pair.split('=')[1]!;
    const redis = new Redis(TEST_REDIS_URL);
    const key = `${config.QUEUE_PREFIX}:tl:session:${createHash('sha256').update(id).digest('hex')}`;
    expect(JSON.parse((await redis.get(key))!)).toMatchObject({ role: 'admin' });
    expect(await redis.ttl(key)).toBeGreaterThan(600_000);
    expect((await request(app).get('/api/queues').set('cookie', pair)).status).toBe(200);
    const out = await request(app).post('/logout').set('cookie', pair);
    expect(out.status).toBe(303);
    expect(await redis.get(key)).toBeNull();
    redis.disconnect();
    // The copied cookie is dead on the server, not only cleared in the browser.
    expect((await request(app).get('/api/queues').set('cookie', pair)).status).toBe(401);
    const page = await request(app).get('/').set('cookie', pair).set('accept', 'text/html');
    expect(page.status).toBe(303);
  });

  it('marks the cookie Secure behind a TLS proxy when TRUST_PROXY is set, and only then', async () => {
    const proxied = await makeApp({ DASHBOARD_TOKEN: TOKEN, TRUST_PROXY: '1' });
    expect((await login(proxied.app, TOKEN, { 'x-forwarded-proto': 'https' })).cookie).toMatch(/; Secure$/);
    expect((await login(proxied.app, TOKEN)).cookie).not.toMatch(/Secure/);
    const direct = await makeApp({ DASHBOARD_TOKEN: TOKEN });
    expect((await login(direct.app, TOKEN, { 'x-forwarded-proto': 'https' })).cookie).not.toMatch(/Secure/);
    // HSTS is sent only where TLS is in front.
    expect((await request(proxied.app).get('/healthz')).headers['strict-transport-security']).toMatch(/max-age=/);
    expect((await request(direct.app).get('/healthz')).headers['strict-transport-security']).toBeUndefined();
  });

  it('answers 400, never 500, for a malformed session cookie', async () => {
    const { app } = await makeApp({ DASHBOARD_TOKEN: TOKEN });
    for (const value of ['%E0%A4%A', 'short', `${'a'.repeat(43)}!`, '"quoted"']) {
      const res = await request(app).get('/api/queues').set('cookie', `tl_session=${value}`);
      expect(res.status, value).toBe(400);
      expect(res.body.details[0].field).toBe('cookie.tl_session');
    }
    // A well-formed id we never issued is simply not a session.
    expect((await request(app).get('/api/queues').set('cookie', `tl_session=${'b'.repeat(43)}`)).status).toBe(401);
  });

  it('redirects after login to on-site paths only', async () => {
    const { app } = await makeApp({ DASHBOARD_TOKEN: TOKEN });
    const cases: Array<[string, string]> = [
      ['/\\evil.com', '/'],
      ['//evil.com', '/'],
      ['https://evil.com/', '/'],
      ['/\t/evil.com', '/'],
      ['/jobs/abc?x=1', '/jobs/abc?x=1'],
    ];
    for (const [next, want] of cases) {
      const res = await request(app).post('/login').type('form').send({ token: TOKEN, next });
      expect(res.headers.location, next).toBe(want);
      const failed = await request(app).post('/login').type('form').send({ token: 'wrong-wrong-wrong-wrong', next });
      expect(failed.headers.location).toBe(`/login?error=1&next=${encodeURIComponent(want)}`);
    }
    expect((await request(app).get('/login?next=//evil.com')).text).toContain('name="next" value="/"');
  });
});

describe('authentication failures are rate limited', () => {
  it('answers 429 with Retry-After after AUTH_MAX_FAILURES bad tokens, for bearer and login alike', async () => {
    const { app } = await makeApp({ DASHBOARD_TOKEN: TOKEN, AUTH_MAX_FAILURES: '3' });
    for (let i = 0; i < 3; i++) expect((await request(app).get('/api/queues').set('authorization', 'Bearer not-the-token-at-all')).status).toBe(401);
    const limited = await request(app).get('/api/queues').set('authorization', 'Bearer not-the-token-at-all');
    expect(limited.status).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(900);
    // A blocked client is refused before its token is looked at (no oracle for guesses).
    expect((await request(app).get('/api/queues').set('authorization', `Bearer ${TOKEN}`)).status).toBe(429);
    const form = await request(app).post('/login').type('form').send({ token: TOKEN });
    expect(form.status).toBe(429);
    expect(form.headers['retry-after']).toBeDefined();
  });

  it('counts failed logins through the form', async () => {
    const { app } = await makeApp({ DASHBOARD_TOKEN: TOKEN, AUTH_MAX_FAILURES: '2' });
    expect((await request(app).post('/login').type('form').send({ token: 'nope-nope-nope-nope' })).status).toBe(303);
    expect((await request(app).post('/login').type('form').send({ token: 'nope-nope-nope-nope' })).status).toBe(303);
    expect((await request(app).post('/login').type('form').send({ token: 'nope-nope-nope-nope' })).status).toBe(429);
  });
});

describe('read-only token', () => {
  it('sees everything and changes nothing, by bearer or by its session', async () => {
    const { app } = await makeApp({ DASHBOARD_TOKEN: TOKEN, DASHBOARD_READ_TOKEN: READ_TOKEN });
    const bearer = { authorization: `Bearer ${READ_TOKEN}` };
    expect((await request(app).get('/api/queues').set(bearer)).status).toBe(200);
    expect((await request(app).get('/api/jobs').set(bearer)).status).toBe(200);
    expect((await request(app).get('/metrics').set(bearer)).status).not.toBe(401);
    const write = await request(app).post('/api/jobs').set(bearer).send({ ticker: 'SPY' });
    expect(write.status).toBe(403);
    expect(write.body.error).toBe('read-only credentials');
    expect((await request(app).put('/admin/queues/api/queues/trading-cycle/pause').set(bearer)).status).toBe(403);
    const { pair } = await login(app, READ_TOKEN);
    const page = await request(app).get('/').set('cookie', pair).set('accept', 'text/html');
    expect(page.text).toContain('data-readonly="1"');
    expect((await request(app).post('/api/jobs').set('cookie', pair).set('x-tradeloop-request', '1').send({ ticker: 'SPY' })).status).toBe(403);
    // The admin token still writes.
    expect((await request(app).post('/api/jobs').set('authorization', `Bearer ${TOKEN}`).send({ ticker: 'SPY' })).status).toBe(202);
  });
});

describe('/metrics', () => {
  it('needs the token whenever one is set, unless METRICS_PUBLIC=1 is given', async () => {
    const guarded = await makeApp({ DASHBOARD_TOKEN: TOKEN }, { live: true });
    expect((await request(guarded.app).get('/metrics')).status).toBe(401);
    expect((await request(guarded.app).get('/metrics').set('authorization', `Bearer ${TOKEN}`)).status).toBe(200);
    const open = await makeApp({ DASHBOARD_TOKEN: TOKEN, METRICS_PUBLIC: '1' }, { live: true });
    expect((await request(open.app).get('/metrics')).status).toBe(200);
  });
});

describe('security headers', () => {
  it('sets a strict content security policy and the usual headers on pages and API', async () => {
    const { app } = await makeApp();
    for (const path of ['/', '/api/queues', '/admin/queues']) {
      const res = await request(app).get(path).set('accept', 'text/html');
      const csp = String(res.headers['content-security-policy']);
      expect(csp, path).toContain("script-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain('upgrade-insecure-requests');
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['x-frame-options']).toBe('SAMEORIGIN');
      expect(res.headers['x-powered-by']).toBeUndefined();
    }
  });
});

describe('BASE_PATH', () => {
  it('serves pages, assets, API, health and Bull Board under the prefix, with prefixed links and redirects', async () => {
    const { app } = await makeApp({ BASE_PATH: '/tl', DASHBOARD_TOKEN: TOKEN });
    expect((await request(app).get('/tl/healthz')).status).toBe(200);
    expect((await request(app).get('/healthz')).status).toBe(404);
    expect((await request(app).get('/tl/assets/base-path.js')).status).toBe(200);
    const toLogin = await request(app).get('/tl/').set('accept', 'text/html');
    expect(toLogin.headers.location).toBe('/tl/login?next=%2Ftl%2F');
    const loginPage = await request(app).get('/tl/login');
    expect(loginPage.text).toContain('action="/tl/login"');
    const done = await request(app).post('/tl/login').type('form').send({ token: TOKEN, next: '/tl/' });
    expect(done.headers.location).toBe('/tl/');
    const cookie = String(done.headers['set-cookie']?.[0]);
    expect(cookie).toContain('Path=/tl;');
    const pair = cookie.split(';')[0]!;
    const shell = await request(app).get('/tl/').set('cookie', pair).set('accept', 'text/html');
    expect(shell.status).toBe(200);
    expect(shell.text).toContain('src="/tl/assets/app.js"');
    expect(shell.text).toContain('href="/tl/admin/queues"');
    expect(shell.text).toContain('data-base="/tl"');
    expect(shell.text).not.toMatch(/(href|src|action)="\/(?!tl\/)/);
    expect((await request(app).get('/tl/api/queues').set('authorization', `Bearer ${TOKEN}`)).status).toBe(200);
    const board = await request(app).get('/tl/admin/queues').set('cookie', pair);
    expect(board.status).toBe(200);
    expect(board.text).toContain('<base href="/tl/admin/queues/"');
  });
});

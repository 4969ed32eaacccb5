/**
 * The security drill: each attack from the threat model, run black-box against a running install
 * (scheduler, worker and dashboards as real processes). Returns one line of figures per attack.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { dashboardUrl, startProcess, waitFor } from './drill-kit.ts';

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A raw HTTP request: unlike fetch, it may name any Host and Origin, as an attacker's browser would. */
function raw(base: string, method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<Answer> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, method, path: `${u.pathname.replace(/\/$/, '')}${path}`, headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...headers } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Live is not ready: a dashboard answers /healthz before its Redis connection is up, and job routes say 503 until it is. */
async function waitForRedis(base: string, headers: Record<string, string> = {}): Promise<void> {
  const ok = await waitFor(async () => (await raw(base, 'GET', '/api/jobs?limit=1', headers).catch(() => null))?.status === 200, 10_000);
  if (!ok) throw new Error(`dashboard at ${base} did not reach Redis within 10 s`);
}

export interface SecurityFinding {
  attack: string;
  pass: boolean;
  figures: string;
}

export async function runSecurityDrill(stack: { base: string; env: Record<string, string>; processes: Array<{ output: string[] }> }): Promise<SecurityFinding[]> {
  const out: SecurityFinding[] = [];
  const add = (attack: string, pass: boolean, figures: string) => out.push({ attack, pass, figures });
  const open = stack.base;
  const token = `drill-token-${randomUUID()}`;
  const readToken = `drill-read-${randomUUID()}`;
  const guarded = startProcess('bin/dashboard.mjs', { ...stack.env, PORT: '0', LOG_LEVEL: 'info', DASHBOARD_TOKEN: token, DASHBOARD_READ_TOKEN: readToken, TRUST_PROXY: '1', AUTH_MAX_FAILURES: '5', JOBS_PER_MINUTE: '5' });
  const locked = await dashboardUrl(guarded);
  await waitForRedis(locked, { authorization: `Bearer ${token}` });

  // 1. Loopback without a token: DNS rebinding and cross-site writes.
  const rebound = await Promise.all(['/api/queues', '/admin/queues', '/api/schedules'].map((p) => raw(open, 'GET', p, { host: 'evil.example' })));
  add('DNS rebinding (Host: evil.example)', rebound.every((r) => r.status === 421), `statuses ${rebound.map((r) => r.status).join(',')} (want 421)`);
  const csrf = await Promise.all([
    raw(open, 'POST', '/api/schedules/beat/trigger', { origin: 'http://evil.example' }, '{}'),
    raw(open, 'POST', '/api/schedules/beat/pause', { 'sec-fetch-site': 'cross-site', 'content-type': 'application/x-www-form-urlencoded' }, 'x=1'),
    raw(open, 'PUT', '/admin/queues/api/queues/trading-cycle/pause', { origin: 'http://127.0.0.1:9999' }),
    raw(open, 'DELETE', '/admin/queues/api/queues/trading-cycle/obliterate', { 'sec-fetch-site': 'same-site' }),
  ]);
  const curl = await raw(open, 'POST', '/api/schedules/beat/trigger', {}, '{}');
  add('cross-site writes (trigger, pause, Bull Board pause/obliterate)', csrf.every((r) => r.status === 403) && curl.status === 202, `cross-site ${csrf.map((r) => r.status).join(',')} (want 403); curl-style trigger ${curl.status} (want 202)`);

  // 2. Proxies and sessions.
  const fails: number[] = [];
  for (let i = 0; i < 6; i++) fails.push((await raw(locked, 'GET', '/api/queues', { authorization: 'Bearer wrong-wrong-wrong-wrong' })).status);
  const limited = await raw(locked, 'GET', '/api/queues', { authorization: `Bearer ${token}` });
  add('token guessing', fails.slice(0, 5).every((s) => s === 401) && fails[5] === 429 && limited.status === 429 && Number(limited.headers['retry-after']) > 0, `6 bad tokens: ${fails.join(',')}; then right token ${limited.status}, Retry-After ${limited.headers['retry-after']} s`);
  // A fresh client address is needed for the rest: the drill's own is now blocked, which is the point.
  const fresh = startProcess('bin/dashboard.mjs', { ...stack.env, PORT: '0', LOG_LEVEL: 'info', DASHBOARD_TOKEN: token, DASHBOARD_READ_TOKEN: readToken, TRUST_PROXY: '1', QUEUE_PREFIX: `${stack.env.QUEUE_PREFIX}-auth` });
  const auth = await dashboardUrl(fresh);
  await waitForRedis(auth, { authorization: `Bearer ${token}` });
  const form = (t: string, next: string, extra: Record<string, string> = {}) => raw(auth, 'POST', '/login', { 'content-type': 'application/x-www-form-urlencoded', ...extra }, new URLSearchParams({ token: t, next }).toString());
  const login = await form(token, '/\\evil.com', { 'x-forwarded-proto': 'https' });
  const cookie = String(login.headers['set-cookie']?.[0] ?? '');
  const pair = cookie.split(';')[0]!;
  add('open redirect after login (next=/\\evil.com)', login.headers.location === '/', `Location ${login.headers.location}`);
  add('session cookie behind a TLS proxy', /HttpOnly/.test(cookie) && /SameSite=Strict/.test(cookie) && /Secure/.test(cookie) && !cookie.includes(token), `flags ${cookie.split(';').slice(1).map((s) => s.trim().split('=')[0]).join(' ')}; token in cookie ${cookie.includes(token)}`);
  const before = (await raw(auth, 'GET', '/api/queues', { cookie: pair })).status;
  await raw(auth, 'POST', '/logout', { cookie: pair });
  const after = (await raw(auth, 'GET', '/api/queues', { cookie: pair })).status;
  add('logout revokes the session', before === 200 && after === 401, `copied cookie before logout ${before}, after ${after}`);
  const bad = await raw(auth, 'GET', '/api/queues', { cookie: 'tl_session=%E0%A4%A' });
  add('malformed session cookie', bad.status === 400, `status ${bad.status} (want 400)`);
  const read = await raw(auth, 'POST', '/api/jobs', { authorization: `Bearer ${readToken}` }, '{"ticker":"SPY"}');
  const readGet = await raw(auth, 'GET', '/api/jobs', { authorization: `Bearer ${readToken}` });
  add('read-only token', readGet.status === 200 && read.status === 403, `read ${readGet.status}, write ${read.status}`);
  const headers = await raw(auth, 'GET', '/login');
  add('security headers', /script-src 'self'/.test(String(headers.headers['content-security-policy'])) && headers.headers['x-content-type-options'] === 'nosniff', `CSP ${headers.headers['content-security-policy'] ? 'set' : 'missing'}, nosniff ${headers.headers['x-content-type-options']}, HSTS ${headers.headers['strict-transport-security'] ? 'set' : 'missing'}`);

  // 3. /metrics with a token set.
  const metrics = await raw(auth, 'GET', '/metrics');
  add('/metrics with a token set', metrics.status === 401, `anonymous ${metrics.status} (want 401)`);

  // 4. Job requests and Redis keys.
  const bearer = { authorization: `Bearer ${token}` };
  const escalations = await Promise.all([
    raw(auth, 'POST', '/api/jobs', bearer, JSON.stringify({ ticker: 'SPY', config: { engine: 'llm', deep_model: 'o3-pro' } })),
    raw(auth, 'POST', '/api/jobs', bearer, JSON.stringify({ ticker: 'SPY', config: { max_tokens_per_cycle: 5_000_000 } })),
  ]);
  add('job config escalation (quant → llm, any model, 5M tokens)', escalations.every((r) => r.status === 400), `statuses ${escalations.map((r) => r.status).join(',')}; fields ${escalations.map((r) => (JSON.parse(r.body) as { details: Array<{ field: string }> }).details.map((d) => d.field).join('+')).join(' | ')}`);
  const names = await Promise.all([
    raw(open, 'POST', '/api/jobs', {}, JSON.stringify({ ticker: 'SPY', agent: 'constructor' })),
    raw(open, 'GET', '/api/jobs/meta'),
    raw(open, 'GET', `/api/jobs/${randomUUID()}:lock`),
    raw(open, 'DELETE', '/api/jobs/events'),
  ]);
  add('inherited names and raw Redis ids', names[0]!.status === 400 && names.slice(1).every((r) => r.status === 404), `constructor ${names[0]!.status}; meta, <id>:lock, events ${names.slice(1).map((r) => r.status).join(',')}`);
  const jobLimiter = startProcess('bin/dashboard.mjs', { ...stack.env, PORT: '0', LOG_LEVEL: 'info', JOBS_PER_MINUTE: '5', QUEUE_PREFIX: `${stack.env.QUEUE_PREFIX}-rate` });
  const rateBase = await dashboardUrl(jobLimiter);
  await waitForRedis(rateBase);
  const created: number[] = [];
  for (let i = 0; i < 7; i++) created.push((await raw(rateBase, 'POST', '/api/jobs', {}, '{"ticker":"SPY"}')).status);
  add('job creation flood', created.slice(0, 5).every((s) => s === 202) && created.slice(5).every((s) => s === 429), `7 requests at JOBS_PER_MINUTE=5: ${created.join(',')}`);

  // 5. Secrets: nothing any process printed carries a token.
  const printed = [...stack.processes, guarded, fresh, jobLimiter].map((p) => p.output.join('')).join('');
  const leaks = [token, readToken].filter((s) => printed.includes(s)).length;
  add('secrets in logs', leaks === 0 && printed.length > 0, `${printed.length} bytes of logs from ${stack.processes.length + 3} processes, secrets found ${leaks}`);
  for (const p of [guarded, fresh, jobLimiter]) (p as unknown as { kill(s: string): void }).kill('SIGKILL');
  return out;
}

/**
 * npm run drills [-- --short] [--only crash,restart,down,badinput,hung,storage,security,failover] — failure drills on loopback. Each prints
 * PASS/FAIL with figures; the process exits non-zero on any FAIL. Drills use their own QUEUE_PREFIX, a private
 * redis-server where Redis is restarted or stopped, bounded loops, and kill every process they start.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { BUILTIN_AGENTS, CYCLE_JOB_NAME, cycleJobDataSchema, cycleJobOptions, deleteKeysByPrefix, openQueues, QUEUE_NAMES } from '../src/core/index.ts';
import { failoverDrill } from './failover-drill.ts';
import { storageFaultDrill } from './storage-fault-drill.ts';
import { alive, cpuSeconds, dashboardUrl, killAll, privateRedis, startProcess, waitFor } from './drill-kit.ts';
import { runSecurityDrill } from './security-drill.ts';

const { values: opt } = parseArgs({ options: { short: { type: 'boolean' }, only: { type: 'string' } } });
const short = opt.short === true;
const ONLY = new Set((opt.only ?? 'crash,restart,down,badinput,hung,storage,security,failover').split(','));
const DRILL_CYCLE = resolve('drills/drill-cycle.ts');
const results: Array<{ drill: string; pass: boolean; figures: string }> = [];
const report = (drill: string, pass: boolean, figures: string) => {
  results.push({ drill, pass, figures });
  process.stdout.write(`${pass ? 'PASS' : 'FAIL'}  ${drill}: ${figures}\n`);
};
const prefix = () => `drill-${randomUUID().slice(0, 8)}`;
const jobData = (ticker: string, over: Record<string, unknown> = {}) =>
  cycleJobDataSchema.parse({ agent: 'quant', ticker, trigger: 'api', requested_at: new Date().toISOString(), profile: BUILTIN_AGENTS.quant, overlap: 'allow', ...over });
const fastWorkerEnv = { WORKER_LOCK_MS: '2000', WORKER_STALLED_INTERVAL_MS: '1000', WORKER_MAX_STALLED: '5', WORKER_HEARTBEAT_MS: '500' };

async function enqueue(url: string, pfx: string, n: number, over: Record<string, unknown> = {}): Promise<string[]> {
  const redis = new Redis(url, { maxRetriesPerRequest: null });
  const queues = openQueues(redis, pfx);
  const ids: string[] = [];
  for (let i = 0; i < n; i += 500) {
    const batch = Array.from({ length: Math.min(500, n - i) }, (_, k) => ({ name: CYCLE_JOB_NAME, data: jobData(`D${(i + k) % 100}`, over), opts: { ...cycleJobOptions('trading-cycle'), attempts: 5, jobId: randomUUID() } }));
    ids.push(...(await queues['trading-cycle'].addBulk(batch)).map((j) => String(j.id)));
  }
  await Promise.all(Object.values(queues).map((q) => q.close()));
  redis.disconnect();
  return ids;
}

async function finishedCounts(url: string, pfx: string) {
  const redis = new Redis(url, { maxRetriesPerRequest: null });
  const queues = openQueues(redis, pfx);
  const completed = await queues['trading-cycle'].getCompletedCount();
  const failed = await queues['trading-cycle'].getFailedCount();
  await Promise.all(Object.values(queues).map((q) => q.close()));
  redis.disconnect();
  return { completed, failed };
}

// 1. kill -9 workers under load: every cycle completes, recorded exactly once.
async function crashDrill() {
  const n = short ? 500 : 10_000;
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const pfx = prefix();
  const resultsDir = mkdtempSync(join(os.tmpdir(), 'tl-drill-results-'));
  const env = { REDIS_URL: redisUrl, QUEUE_PREFIX: pfx, CYCLE_MODULE: DRILL_CYCLE, DRILL_CYCLE_MS: short ? '40' : '20', RESULTS_DIR: resultsDir, WORKER_SANDBOX: '0', ...fastWorkerEnv };
  const ids = await enqueue(redisUrl, pfx, n);
  const workers = [0, 1, 2].map(() => startProcess('bin/worker.mjs', env, ['--queues', 'trading-cycle', '--concurrency', '4']));
  let kills = 0;
  const killEvery = short ? 2_000 : 5_000;
  const killFor = short ? 8_000 : 30_000;
  const t0 = Date.now();
  while (Date.now() - t0 < killFor) {
    await new Promise((r) => setTimeout(r, killEvery));
    const victim = workers.find((w) => w.exitCode === null && w.signalCode === null);
    if (victim) {
      victim.kill('SIGKILL');
      kills++;
    }
    workers.push(startProcess('bin/worker.mjs', env, ['--queues', 'trading-cycle', '--concurrency', '4']));
  }
  const done = await waitFor(async () => {
    const c = await finishedCounts(redisUrl, pfx);
    return c.completed + c.failed >= n;
  }, short ? 120_000 : 600_000, 500);
  const counts = await finishedCounts(redisUrl, pfx);
  const redis = new Redis(redisUrl);
  const recorded = (await Promise.all(ids.map((id) => redis.exists(`${pfx}:tl:recorded:${id}`)))).filter(Boolean).length;
  const executions = await redis.hgetall(`${pfx}:drill:executions`);
  const reRun = Object.values(executions).filter((v) => Number(v) > 1).length;
  // Result files follow their jobs (written after completion; a killed worker's are written by another).
  const fileCount = () => readdirSync(resultsDir, { recursive: true }).filter((f) => String(f).endsWith('.json')).length;
  await waitFor(async () => fileCount() >= n, 20_000, 250).catch(() => undefined);
  const files = fileCount();
  await cleanPrefix(redis, pfx);
  redis.disconnect();
  workers.forEach((w) => w.kill('SIGKILL'));
  const lost = n - counts.completed;
  const duplicated = Math.max(0, files - n) + Math.max(0, recorded - n);
  report('worker crash under load', done && lost === 0 && counts.failed === 0 && recorded === n && files === n && duplicated === 0,
    `${n} cycles, ${kills} workers killed (-9), completed ${counts.completed}, failed ${counts.failed}, lost ${lost}, results ${files}, recorded ${recorded}, duplicated ${duplicated}, re-executed after a kill ${reRun}`);
}

const cleanPrefix = deleteKeysByPrefix;

async function productStack(url: string, pfx: string, extra: Record<string, string> = {}) {
  const dir = mkdtempSync(join(os.tmpdir(), 'tl-drill-'));
  const file = join(dir, 'schedules.yaml');
  writeFileSync(file, 'schedules:\n  - { id: beat, agent: quant, ticker: SPY, every: 1s, market_hours: always }\n');
  const env = { REDIS_URL: url, QUEUE_PREFIX: pfx, SCHEDULES_FILE: file, CYCLE_MODULE: DRILL_CYCLE, DRILL_CYCLE_MS: '20', RESULTS_DIR: join(dir, 'results'), WORKER_SANDBOX: '0', ...fastWorkerEnv, ...extra };
  const scheduler = startProcess('bin/scheduler.mjs', env);
  const worker = startProcess('bin/worker.mjs', env, ['--concurrency', '8']);
  const dashboard = startProcess('bin/dashboard.mjs', { ...env, PORT: '0', LOG_LEVEL: 'info' });
  const base = await dashboardUrl(dashboard);
  return { scheduler, worker, dashboard, base, file, env };
}

// 2. Redis restart with pending jobs: everything reconnects, schedules survive, jobs complete.
async function restartDrill() {
  const redis = await privateRedis();
  const pfx = prefix();
  const n = short ? 100 : 1000;
  const stack = await productStack(redis.url, pfx);
  await waitFor(async () => (await fetch(`${stack.base}/readyz`)).status === 200, 20_000);
  stack.worker.kill('SIGKILL'); // jobs must wait as pending across the restart
  await enqueue(redis.url, pfx, n);
  await redis.stop();
  await new Promise((r) => setTimeout(r, 1_000));
  await redis.start();
  const worker = startProcess('bin/worker.mjs', stack.env, ['--concurrency', '8']);
  const completedAll = await waitFor(async () => (await finishedCounts(redis.url, pfx)).completed >= n, short ? 60_000 : 300_000, 500);
  const ready = await waitFor(async () => (await fetch(`${stack.base}/readyz`).catch(() => ({ status: 0 }))).status === 200, 20_000);
  const schedules = (await (await fetch(`${stack.base}/api/schedules`)).json()) as { schedules: Array<{ id: string }> };
  const beatsAfter = await waitFor(async () => {
    const s = (await (await fetch(`${stack.base}/api/schedules/beat`)).json()) as { last_run?: { finished_at?: string } };
    return Boolean(s.last_run?.finished_at && Date.now() - Date.parse(s.last_run.finished_at) < 5_000);
  }, 15_000);
  const processesUp = [stack.scheduler, stack.dashboard, worker].every((p) => alive(p.pid) && p.exitCode === null);
  const counts = await finishedCounts(redis.url, pfx);
  report('Redis restart', completedAll && ready && processesUp && schedules.schedules.some((s) => s.id === 'beat') && beatsAfter,
    `${n} pending jobs across the restart: completed ${counts.completed}, failed ${counts.failed}; dashboard ready ${ready}; schedule present ${schedules.schedules.length === 1}, firing again ${beatsAfter}; processes alive ${processesUp}`);
  killAll();
  await redis.stop();
}

// 3. Redis down: quick 503s, no exits, no spinning, recovery.
async function downDrill() {
  const redis = await privateRedis();
  const pfx = prefix();
  const stack = await productStack(redis.url, pfx);
  await waitFor(async () => (await fetch(`${stack.base}/readyz`)).status === 200, 20_000);
  const procs = [stack.scheduler, stack.worker, stack.dashboard];
  await redis.stop();
  const downFor = short ? 5_000 : 20_000;
  const cpuBefore = procs.map((p) => cpuSeconds(p.pid!));
  const t0 = Date.now();
  const timings: number[] = [];
  const statuses: number[] = [];
  let jsonErrors = 0;
  let readyz503 = 0;
  while (Date.now() - t0 < downFor) {
    const s = Date.now();
    const res = await fetch(`${stack.base}/api/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"ticker":"SPY"}', signal: AbortSignal.timeout(5_000) }).catch(() => null);
    timings.push(Date.now() - s);
    statuses.push(res?.status ?? 0);
    if (res && ((await res.json().catch(() => null)) as { error?: string } | null)?.error) jsonErrors++;
    if ((await fetch(`${stack.base}/readyz`).catch(() => null))?.status === 503) readyz503++;
    await new Promise((r) => setTimeout(r, 250));
  }
  const cpuDuring = procs.map((p, i) => cpuSeconds(p.pid!) - cpuBefore[i]!);
  const allAlive = procs.every((p) => alive(p.pid) && p.exitCode === null);
  await redis.start();
  const recovered = await waitFor(async () => {
    const res = await fetch(`${stack.base}/api/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"ticker":"SPY"}' }).catch(() => null);
    if (res?.status !== 202) return false;
    const { job_id } = (await res.json()) as { job_id: string };
    return waitFor(async () => ((await (await fetch(`${stack.base}/api/jobs/${job_id}`)).json()) as { status: string }).status === 'completed', 15_000);
  }, 30_000, 500);
  const max = Math.max(...timings);
  const all503 = statuses.every((s) => s === 503);
  const maxCpuShare = Math.max(...cpuDuring) / (downFor / 1000);
  report('Redis down', all503 && max < 1000 && jsonErrors === statuses.length && readyz503 === statuses.length && allAlive && maxCpuShare < 0.25 && recovered,
    `${statuses.length} requests while down: all 503 ${all503}, slowest ${max} ms, JSON errors ${jsonErrors}, /readyz 503 ${readyz503}; processes alive ${allAlive}; max CPU ${(maxCpuShare * 100).toFixed(1)}% of a core; recovered ${recovered}`);
  killAll();
  await redis.stop();
}

// 4. Bad input: malformed API bodies and broken schedule files.
function malformedBodies(n: number): string[] {
  const deep = (d: number): unknown => (d === 0 ? 'x' : { a: deep(d - 1) });
  const shapes: Array<() => unknown> = [
    () => ({}), () => ({ ticker: 1 }), () => ({ ticker: null }), () => ({ ticker: ['SPY'] }), () => ({ ticker: 'x'.repeat(50_000) }),
    () => ({ ticker: 'SPY', date: 'yesterday' }), () => ({ ticker: 'SPY', agent: '💥' }), () => ({ ticker: '𝔖𝔓𝔜' }), () => ({ ticker: 'SPY', config: deep(200) }),
    () => JSON.parse('{"__proto__":{"admin":true},"ticker":"SPY"}'), () => ({ ticker: 'SPY', constructor: { prototype: { polluted: 1 } } }),
    () => ({ ticker: 'SPY', config: { debate_rounds: -1 } }), () => ({ ticker: 'SPY', queue: 'nope' }), () => ({ ticker: 'SPY', dry_run: 'yes' }),
    () => [1, 2, 3], () => 'just a string', () => 42, () => ({ ticker: 'SPY', extra: 'field' }),
  ];
  const raw = ['{"ticker":', 'not json', '{"ticker":"SPY"', '\u0000\u0001', '{"a":' + '['.repeat(5000)];
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(i % 7 === 6 ? raw[i % raw.length]! : JSON.stringify(shapes[i % shapes.length]!()));
  return out;
}

function brokenSchedule(i: number): string {
  const variants = [
    'schedules:\n  - { id: beat, agent: quant, ticker: SPY, every: soon, market_hours: always }\n',
    'schedules:\n  - { id: beat, agent: ghost, ticker: SPY, every: 1s, market_hours: always }\n',
    'schedules:\n  - { id: beat, agent: quant, ticker: "S P Y", every: 1s }\n',
    'schedules:\n  - { id: beat, agent: quant, ticker: SPY, cron: "99 * * * *" }\n',
    'schedules:\n  - id: beat\n   agent: [broken\n',
    'schedules:\n  - { id: Beat!, agent: quant, ticker: SPY, every: 1s }\n',
    'schedules:\n  - { id: beat, agent: quant, ticker: SPY, every: 1s, bogus: true }\n',
    'schedules:\n  - { id: a, agent: quant, ticker: SPY, every: 1s }\n  - { id: a, agent: quant, ticker: QQQ, every: 1s }\n',
  ];
  return variants[i % variants.length]!;
}

async function badInputDrill() {
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const pfx = prefix();
  const stack = await productStack(redisUrl, pfx, { DRILL_CYCLE_MS: '5' });
  await waitFor(async () => (await fetch(`${stack.base}/readyz`)).status === 200, 20_000);
  const bodies = malformedBodies(short ? 200 : 1000);
  let fourxx = 0;
  let fivexx = 0;
  let nonJson = 0;
  for (const body of bodies) {
    const res = await fetch(`${stack.base}/api/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    if (res.status >= 500) fivexx++;
    else if (res.status >= 400) fourxx++;
    const parsed = (await res.json().catch(() => null)) as { error?: string; details?: unknown[] } | null;
    if (!parsed?.error || !Array.isArray(parsed.details)) nonJson++;
  }
  const dashAlive = alive(stack.dashboard.pid) && stack.dashboard.exitCode === null;
  // Broken schedule files: each rejected with a located error, while the last good schedule keeps firing.
  const files = short ? 30 : 200;
  let located = 0;
  const redis = new Redis(redisUrl);
  for (let i = 0; i < files; i++) {
    writeFileSync(stack.file, brokenSchedule(i));
    const ok = await waitFor(async () => {
      const raw = await redis.get(`${pfx}:tl:schedule-status`);
      const st = raw ? (JSON.parse(raw) as { ok: boolean; error?: string }) : null;
      return Boolean(st && !st.ok && /schedules\.yaml:\d+:\d+/.test(st.error ?? ''));
    }, 3_000, 50);
    if (ok) located++;
    await redis.set(`${pfx}:tl:schedule-status`, JSON.stringify({ ok: true }));
  }
  const before = Date.now();
  const firing = await waitFor(async () => {
    const raw = await redis.hget(`${pfx}:tl:last-runs`, 'beat:SPY');
    return Boolean(raw && Date.parse((JSON.parse(raw) as { finished_at: string }).finished_at) > before);
  }, 10_000);
  await cleanPrefix(redis, pfx);
  redis.disconnect();
  report('bad input', fourxx === bodies.length && fivexx === 0 && nonJson === 0 && dashAlive && located === files && firing,
    `${bodies.length} malformed bodies: 4xx ${fourxx}, 5xx ${fivexx}, non-JSON ${nonJson}, dashboard alive ${dashAlive}; ${files} broken schedule files: located ${located}; last good schedule still firing ${firing}`);
  killAll();
}

// 5. An LLM endpoint that never answers: the soft limit ends the cycle, the slot is freed.
async function hungDrill() {
  const sockets = new Set<import('node:net').Socket>();
  const server = http.createServer(() => {}).listen(0, '127.0.0.1');
  server.on('connection', (s) => sockets.add(s));
  await new Promise((r) => server.once('listening', r));
  const llmUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}/v1`;
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const pfx = prefix();
  const env = { REDIS_URL: redisUrl, QUEUE_PREFIX: pfx, OPENAI_BASE_URL: llmUrl, MARKET_DATA: 'simulated', CYCLE_SOFT_TIME_LIMIT_MS: '2000', CYCLE_HARD_TIME_LIMIT_MS: '4000', ...fastWorkerEnv };
  const worker = startProcess('bin/worker.mjs', env, ['--concurrency', '1']);
  await waitFor(() => worker.output.join('').length > 0 || true, 100);
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const queues = openQueues(redis, pfx);
  const llm = { ...BUILTIN_AGENTS.quant!, engine: 'llm' as const };
  const hung = await queues['trading-cycle'].add(CYCLE_JOB_NAME, jobData('NVDA', { profile: llm }), { ...cycleJobOptions('trading-cycle'), jobId: randomUUID() });
  const after = await queues['trading-cycle'].add(CYCLE_JOB_NAME, jobData('AAPL'), { ...cycleJobOptions('trading-cycle'), jobId: randomUUID() });
  const t0 = Date.now();
  const ended = await waitFor(async () => ['failed', 'completed'].includes(await hung.getState()), 30_000, 100);
  const tookMs = Date.now() - t0;
  const fresh = await queues['trading-cycle'].getJob(hung.id!);
  const freed = await waitFor(async () => (await after.getState()) === 'completed', 30_000, 100);
  const reason = fresh?.failedReason ?? '';
  report('hung LLM endpoint', ended && /time limit exceeded/.test(reason) && (fresh?.attemptsMade ?? 0) === 1 && freed,
    `cycle ended after ${tookMs} ms with "${reason}" (attempts ${fresh?.attemptsMade}); next cycle on the same slot completed ${freed}`);
  await Promise.all(QUEUE_NAMES.map((q) => queues[q].close()));
  await cleanPrefix(redis, pfx);
  redis.disconnect();
  worker.kill('SIGKILL');
  sockets.forEach((s) => s.destroy());
  server.close();
}

// 6. Security: every attack of the threat model, black-box against a running install.
async function securityDrill() {
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const pfx = prefix();
  const stack = await productStack(redisUrl, pfx);
  await waitFor(async () => (await fetch(`${stack.base}/readyz`)).status === 200, 20_000);
  const findings = await runSecurityDrill({ base: stack.base, env: stack.env, processes: [stack.scheduler, stack.worker, stack.dashboard] });
  for (const f of findings) report(`security: ${f.attack}`, f.pass, f.figures);
  killAll();
  const redis = new Redis(redisUrl);
  for (const p of [pfx, `${pfx}-auth`, `${pfx}-rate`]) await cleanPrefix(redis, p);
  redis.disconnect();
}

process.on('SIGINT', () => {
  killAll();
  process.exit(130);
});
try {
  if (ONLY.has('crash')) await crashDrill();
  if (ONLY.has('restart')) await restartDrill();
  if (ONLY.has('down')) await downDrill();
  if (ONLY.has('badinput')) await badInputDrill();
  if (ONLY.has('hung')) await hungDrill();
  if (ONLY.has('storage')) await storageFaultDrill({ short, report });
  if (ONLY.has('security')) await securityDrill();
  if (ONLY.has('failover')) await failoverDrill({ short, report });
} catch (err) {
  report('drills', false, `aborted: ${(err as Error).stack}`);
} finally {
  killAll();
}
const failed = results.filter((r) => !r.pass).length;
process.stdout.write(`\ndrills: ${results.length - failed} of ${results.length} PASS\n`);
process.exit(failed ? 1 : 0);

/**
 * Sentinel failover under load: a primary, two replicas and three sentinels; the product's scheduler,
 * two workers and the dashboard follow the sentinels. While schedules fire every second and a client
 * POSTs /api/jobs at a steady rate, SENTINEL FAILOVER promotes a replica. Afterwards every process is
 * still running and reconnected, the schedules fire again, every 202 job completed, no job id (and so
 * no scheduler slot) was analysed twice, and the API answered 503 quickly during the switch.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { deleteKeysByPrefix } from '../src/core/index.ts';
import { startSentinelDeployment } from '../test/support/redis-deployments.ts';
import { alive, dashboardUrl, startProcess, waitFor } from './drill-kit.ts';

type Report = (drill: string, pass: boolean, figures: string) => void;

interface Answer {
  at: number;
  ms: number;
  status: number;
  jobId?: string;
  notWithdrawn?: boolean;
}

const TICKERS = ['SPY', 'QQQ', 'IWM'];
/** A request slower than this is a hang: producer connections must fail fast. */
const HANG_MS = 5_000;

async function post(base: string): Promise<Answer> {
  const at = Date.now();
  try {
    const res = await fetch(`${base}/api/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"ticker":"DIA"}', signal: AbortSignal.timeout(15_000) });
    const body = (await res.json().catch(() => null)) as { job_id?: string; details?: Array<{ message: string }> } | null;
    const notWithdrawn = body?.details?.some((d) => /could not be withdrawn/.test(d.message)) ?? false;
    return { at, ms: Date.now() - at, status: res.status, ...(body?.job_id ? { jobId: body.job_id } : {}), notWithdrawn };
  } catch {
    return { at, ms: Date.now() - at, status: 0 };
  }
}

export async function failoverDrill(opts: { short: boolean; report: Report }): Promise<void> {
  const d = await startSentinelDeployment({ replicas: 2, sentinels: 3 });
  const dir = mkdtempSync(join(os.tmpdir(), 'tl-drill-failover-'));
  const file = join(dir, 'schedules.yaml');
  const executions = join(dir, 'executions.log');
  writeFileSync(file, `schedules:\n${TICKERS.map((t) => `  - { id: beat-${t.toLowerCase()}, agent: quant, ticker: ${t}, every: 1s, market_hours: always }\n`).join('')}`);
  const pfx = `drill-${randomUUID().slice(0, 8)}`;
  const env = {
    REDIS_URL: 'redis://127.0.0.1:6379', // credentials only: the sentinels say where the primary is
    REDIS_PASSWORD: d.password,
    REDIS_SENTINELS: d.sentinelList,
    REDIS_SENTINEL_NAME: d.name,
    REDIS_SENTINEL_PASSWORD: d.sentinelPassword,
    QUEUE_PREFIX: pfx,
    SCHEDULES_FILE: file,
    CYCLE_MODULE: resolve('drills/drill-cycle.ts'),
    DRILL_CYCLE_MS: '20',
    DRILL_EXECUTIONS_FILE: executions,
    RESULTS_DIR: join(dir, 'results'),
    WORKER_SANDBOX: '0',
    JOBS_PER_MINUTE: '100000',
    // REDIS_ACK_REPLICAS is left at its Sentinel default, `all`: every replica must confirm (a write only
    // the replica that is not promoted holds is thrown away when it resyncs from the new primary).
    WORKER_LOCK_MS: '5000',
    WORKER_STALLED_INTERVAL_MS: '2000',
    WORKER_MAX_STALLED: '5',
    WORKER_HEARTBEAT_MS: '500',
  };
  const admin = new Redis({ sentinels: d.sentinelList.split(',').map((s) => ({ host: '127.0.0.1', port: Number(s.split(':')[1]) })), name: d.name, password: d.password, sentinelPassword: d.sentinelPassword, maxRetriesPerRequest: null, failoverDetector: true });
  admin.on('error', () => {});
  try {
    const scheduler = startProcess('bin/scheduler.mjs', env);
    const workers = [0, 1].map(() => startProcess('bin/worker.mjs', env, ['--concurrency', '4']));
    const dashboard = startProcess('bin/dashboard.mjs', { ...env, PORT: '0', LOG_LEVEL: 'info' });
    const procs = [scheduler, ...workers, dashboard];
    // Generous: four processes compile and start at once on a loaded machine.
    const base = await dashboardUrl(dashboard, 90_000);
    const lines = () => (existsSync(executions) ? readFileSync(executions, 'utf8').split('\n').filter(Boolean).map((l) => l.split(' ')[0]!) : []);
    const slotsOf = (ids: string[]) => ids.map((id) => /^repeat:(.+):(\d+)$/.exec(id)).filter((m): m is RegExpExecArray => m !== null);
    const ready = await waitFor(async () => (await fetch(`${base}/readyz`).catch(() => null))?.status === 200, 60_000, 250);
    const firing = await waitFor(() => new Set(slotsOf(lines()).map((m) => m[1])).size >= TICKERS.length, 60_000, 250);
    if (!ready || !firing) throw new Error(`stack not up: /readyz ${ready}, schedules firing ${firing}; ${dashboard.output.join('').slice(-400)}`);

    // Steady API load: one request every 100 ms, each bounded, every answer kept.
    const answers: Answer[] = [];
    let loading = true;
    const load = (async () => {
      while (loading) {
        const next = Date.now() + 100;
        answers.push(await post(base));
        await sleep(Math.max(0, next - Date.now()));
      }
    })();
    const warmFor = opts.short ? 6_000 : 20_000;
    await sleep(warmFor);
    const switchStart = Date.now();
    const { from, to } = await d.failover(60_000);
    const switchEnd = Date.now();
    // Load continues until 202s come back and for a while after, so the new primary carries real work.
    const afterFor = opts.short ? 10_000 : 30_000;
    await waitFor(() => answers.some((a) => a.at > switchEnd && a.status === 202), 60_000, 200);
    await sleep(afterFor);
    loading = false;
    await load;

    // Every acknowledged job must end completed on the new primary.
    const acked = answers.filter((a) => a.status === 202 && a.jobId).map((a) => a.jobId!);
    const states = new Map<string, string>();
    const settled = await waitFor(async () => {
      for (const id of acked) {
        if (states.get(id) === 'completed') continue;
        const res = await fetch(`${base}/api/jobs/${id}`).catch(() => null);
        states.set(id, res?.status === 200 ? ((await res.json()) as { status: string }).status : `http ${res?.status ?? 0}`);
      }
      return acked.every((id) => states.get(id) === 'completed');
    }, 120_000, 1_000);
    const lost = acked.filter((id) => states.get(id) !== 'completed');
    // Schedules fire again after the switch: a slot due after it ran for every schedule.
    const resumed = await waitFor(() => new Set(slotsOf(lines()).filter((m) => Number(m[2]) > switchEnd).map((m) => m[1])).size >= TICKERS.length, 60_000, 250);
    // Let in-flight slots finish before counting executions.
    await waitFor(async () => (await fetch(`${base}/readyz`).catch(() => null))?.status === 200, 30_000, 250);
    await sleep(2_000);
    const processesUp = procs.every((p) => alive(p.pid) && p.exitCode === null && p.signalCode === null);
    const onPrimary = Number(/tcp_port:(\d+)/.exec(await admin.info('server'))?.[1]) === to;

    const ran = lines();
    const count = new Map<string, number>();
    for (const id of ran) count.set(id, (count.get(id) ?? 0) + 1);
    const twice = [...count].filter(([, n]) => n > 1).map(([id]) => id);
    const slots = slotsOf([...count.keys()]);
    const slotsTwice = twice.filter((id) => id.startsWith('repeat:'));
    const apiTwice = twice.filter((id) => !id.startsWith('repeat:'));
    const slotsAfter = slots.filter((m) => Number(m[2]) > switchEnd).length;
    const slotsBefore = slots.filter((m) => Number(m[2]) < switchStart).length;

    const failing = answers.filter((a) => a.status !== 202);
    const n503 = failing.filter((a) => a.status === 503).length;
    const others = failing.filter((a) => a.status !== 503);
    const maxMs = Math.max(...answers.map((a) => a.ms));
    const firstFail = failing[0];
    const recovered = firstFail ? answers.find((a) => a.at > firstFail.at && a.status === 202) : undefined;
    const outageMs = firstFail ? (recovered ? recovered.at - firstFail.at : Infinity) : 0;
    const before = answers.filter((a) => a.status === 202 && a.at < switchStart).length;
    const after = answers.filter((a) => a.status === 202 && a.at > switchEnd).length;
    const notWithdrawn = failing.filter((a) => a.notWithdrawn).length;
    const workerLog = workers.map((w) => w.output.join('')).join('');
    const heldBack = (workerLog.match(/job start not confirmed by a replica yet/g) ?? []).length;
    const leftLost = (workerLog.match(/job taken on a primary a failover discarded/g) ?? []).length;
    const rewritten = (workerLog.match(/the analysis not confirmed by a replica yet/g) ?? []).length;

    const violations = [
      !processesUp && 'a process exited',
      !onPrimary && 'the promoted replica is not the primary',
      !resumed && 'schedules did not fire after the switch',
      slotsTwice.length > 0 && `scheduler slots run twice: ${slotsTwice.slice(0, 3).map((id) => `${id} (due ${Number(id.split(':').pop()) - switchStart} ms from the switch)`).join(', ')}`,
      !settled && `acknowledged jobs not completed: ${lost.slice(0, 3).map((id) => `${id} (${states.get(id)})`).join(', ')}`,
      apiTwice.length > 0 && `API jobs analysed twice: ${apiTwice.slice(0, 3).join(', ')}`,
      others.length > 0 && `answers other than 202/503: ${[...new Set(others.map((a) => a.status))].join(', ')}`,
      maxMs >= HANG_MS && `a request took ${maxMs} ms`,
      after === 0 && 'no 202 after the switch',
    ].filter(Boolean);
    opts.report(
      'Sentinel failover',
      violations.length === 0,
      `primary :${from} → :${to} in ${switchEnd - switchStart} ms; ${answers.length} API requests: 202 ${acked.length} (before ${before}, after ${after}), 503 ${n503}, other ${others.length}, slowest ${maxMs} ms, ` +
        `outage ${outageMs === Infinity ? 'not over' : `${outageMs} ms`}; lost ${lost.length}; unacknowledged jobs not withdrawn ${notWithdrawn}; ` +
        `scheduler slots run ${slots.length} (before ${slotsBefore}, after ${slotsAfter}), twice ${slotsTwice.length}; API jobs run twice ${apiTwice.length}; ` +
        `worker guards: starts held back ${heldBack}, jobs left to the new primary ${leftLost}, analyses written again ${rewritten}; ` +
        `processes alive ${processesUp} (${procs.length}, none restarted)${violations.length ? `; VIOLATIONS: ${violations.join('; ')}` : ''}`,
    );
    // Kept on a violation, to read which job ran where and when.
    if (violations.length) process.stdout.write(`      executions kept in ${executions}; switch at ${switchStart}..${switchEnd}\n`);
    else {
      // The workers write result files off the job's path: stop them before the folder goes.
      await Promise.all(procs.map((p) => (p.exitCode !== null || p.signalCode !== null ? undefined : new Promise((r) => (p.once('exit', r), p.kill('SIGKILL'))))));
      rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    }
    await deleteKeysByPrefix(admin, pfx).catch(() => undefined);
  } finally {
    admin.disconnect();
    await d.stop();
  }
}

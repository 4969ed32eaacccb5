/**
 * Storage faults after the analysis: LLM cycles run while the results folder cannot be written and
 * Redis refuses writes (OOM under noeviction) for a few seconds. Each job's model calls must happen
 * once (counted at the local OpenAI-compatible server), and the job state, the result, the result
 * file, the scorecard entry and the paper ledger must carry the same decision.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { getPortfolio } from '../src/agents/index.ts';
import { agentProfileSchema, CYCLE_JOB_NAME, cycleJobDataSchema, cycleJobOptions, openQueues, QUEUE_NAMES } from '../src/core/index.ts';
import { defaultAnswer, startFakeOpenAI } from '../test/support/fake-openai-server.ts';
import { privateRedis, startProcess, waitFor } from './drill-kit.ts';

type Report = (drill: string, pass: boolean, figures: string) => void;

export async function storageFaultDrill(opts: { short: boolean; report: Report }): Promise<void> {
  const n = opts.short ? 6 : 30;
  const redis = await privateRedis();
  const admin = new Redis(redis.url, { maxRetriesPerRequest: null });
  const llm = await startFakeOpenAI((r) => ({ content: defaultAnswer(r.role, 'Buy') }));
  const dir = mkdtempSync(join(os.tmpdir(), 'tl-drill-storage-'));
  const results = join(dir, 'results');
  const pfx = `drill-${randomUUID().slice(0, 8)}`;
  const env = { REDIS_URL: redis.url, QUEUE_PREFIX: pfx, OPENAI_BASE_URL: llm.baseURL, MARKET_DATA: 'simulated', RESULTS_DIR: results, WORKER_SANDBOX: '0', WORKER_HEARTBEAT_MS: '500' };
  const worker = startProcess('bin/worker.mjs', env, ['--concurrency', '4']);
  const queues = openQueues(admin, pfx);
  const profile = agentProfileSchema.parse({ engine: 'llm', debate_rounds: 1, risk_rounds: 1 });
  const tickers = Array.from({ length: n }, (_, i) => `SF${String.fromCharCode(65 + (i % 26))}${i}`);
  const callsFor = (ticker: string) => llm.requests.filter((r) => r.body.messages.some((m) => m.content.includes(ticker))).length;
  try {
    // A baseline cycle without faults says how many model calls one cycle makes.
    const add = (ticker: string) =>
      queues['trading-cycle'].add(CYCLE_JOB_NAME, cycleJobDataSchema.parse({ agent: 'storage-desk', ticker, trigger: 'api', requested_at: new Date().toISOString(), profile, overlap: 'allow' }), { ...cycleJobOptions('trading-cycle'), attempts: 5, jobId: randomUUID() });
    const base = await add('SFBASE');
    await waitFor(async () => (await base.getState()) === 'completed', 120_000, 200);
    const perCycle = callsFor('SFBASE');

    // Faults: every ticker's result folder is a plain file for 4 s, and Redis refuses writes for 3 s
    // from the moment the first portfolio manager call arrives (the end of an analysis).
    mkdirSync(results, { recursive: true });
    for (const t of tickers) writeFileSync(join(results, t), 'not a folder');
    const jobs = await Promise.all(tickers.map(add));
    const t0 = Date.now();
    await waitFor(() => llm.requests.some((r) => r.arrivedAt > t0 && r.role === 'portfolio manager'), 60_000, 20);
    await admin.config('SET', 'maxmemory', '1');
    const oomAt = Date.now();
    setTimeout(() => void admin.config('SET', 'maxmemory', '0'), 3_000);
    setTimeout(() => tickers.forEach((t) => rmSync(join(results, t), { force: true })), 4_000);
    const finished = await waitFor(async () => (await Promise.all(jobs.map((j) => j.getState()))).every((s) => s === 'completed' || s === 'failed'), opts.short ? 180_000 : 600_000, 250);

    // Result files follow their jobs: written after completion, retried while the folder is unwritable.
    const fileOf = async (j: (typeof jobs)[number], i: number) => {
      const r = ((await queues['trading-cycle'].getJob(String(j.id)))?.returnvalue as { result?: { date: string } } | undefined)?.result;
      return r ? join(results, tickers[i]!, r.date, `${j.id}.json`) : '';
    };
    await waitFor(async () => (await Promise.all(jobs.map(fileOf))).every((f) => !f || existsSync(f)), 20_000, 250);
    let agree = 0;
    let onceEach = 0;
    const disagreements: string[] = [];
    for (const [i, j] of jobs.entries()) {
      const fresh = await queues['trading-cycle'].getJob(String(j.id));
      const state = await j.getState();
      const result = (fresh?.returnvalue as { result?: { decision: string; date: string; fill: { side: string } | null } } | undefined)?.result;
      const calls = callsFor(tickers[i]!);
      if (calls === perCycle) onceEach++;
      else disagreements.push(`${tickers[i]} made ${calls} model calls`);
      const file = result ? join(results, tickers[i]!, result.date, `${j.id}.json`) : '';
      const fileDecision = file && existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { decision: string }).decision : null;
      const entry = await admin.hget(`${pfx}:tl:scorecard:storage-desk`, String(j.id));
      const scored = entry ? (JSON.parse(entry) as { decision: string }).decision : null;
      const trades = ((await getPortfolio(admin, pfx, 'storage-desk'))?.trades ?? []).filter((t) => t.job_id === j.id);
      const ledgerOk = result ? (result.fill ? trades.length === 1 && trades[0]!.side === result.fill.side : trades.length === 0) : false;
      const ok = state === 'completed' && !!result && fileDecision === result.decision && scored === result.decision && ledgerOk;
      if (ok) agree++;
      else disagreements.push(`${tickers[i]} state=${state} result=${result?.decision} file=${fileDecision} scorecard=${scored} trades=${trades.length}`);
    }
    opts.report(
      'storage faults after the analysis',
      finished && agree === n && onceEach === n,
      `${n} LLM cycles, Redis OOM for 3 s from ${oomAt - t0} ms, results folder unwritable for 4 s; ${onceEach}/${n} made exactly ${perCycle} model calls (one analysis); ` +
        `${agree}/${n} agree across job state, result, file, scorecard and ledger${disagreements.length ? ` — ${disagreements.slice(0, 3).join('; ')}` : ''}`,
    );
  } finally {
    worker.kill('SIGKILL');
    await Promise.all(QUEUE_NAMES.map((q) => queues[q].close()));
    admin.disconnect();
    await llm.close();
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

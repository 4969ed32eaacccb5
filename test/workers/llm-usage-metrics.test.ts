import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import { agentProfileSchema, CYCLE_JOB_NAME, cycleJobDataSchema, cycleJobOptions, type CycleResult } from '../../src/core/index.ts';
import { defaultAnswer } from '../support/fake-openai-server.ts';
import { llmWorkerHarness } from '../support/llm-worker-harness.ts';
import { waitFor } from '../support/redis-test-env.ts';

/**
 * What a cycle reports about its LLM usage and what /metrics counts agree, also when the server leaves
 * usage out; a refusal ends the job on its first attempt. A real worker (BullMQ, in-process runner, the
 * built-in cycle on simulated prices) against the local OpenAI-compatible server, the real dashboard.
 */
const REFUSAL = "I'm sorry, but I can't provide trading decisions.";
/** The FLAKY ticker's portfolio manager answers 500 to its first four asks: the first attempt fails after spending. */
const flakyAsks = new Map<string, number>();
const { server, config, redis, queues, app: api, startWorker } = await llmWorkerHarness('llm-usage', (r) => {
  if (r.body.messages.some((m) => m.content.includes('FLAKY'))) {
    if (r.role === 'portfolio manager') {
      const ask = JSON.stringify(r.body.messages);
      const n = (flakyAsks.get(ask) ?? 0) + 1;
      flakyAsks.set(ask, n);
      if (n <= 4) return { status: 500, error: { message: 'upstream hiccup' } };
    }
    return { content: defaultAnswer(r.role), usage: { prompt_tokens: 1000, completion_tokens: 200 } };
  }
  const agent = r.body.messages.some((m) => m.content.includes('REFUSE')) ? 'refuse' : 'usage';
  if (agent === 'refuse' && r.role === 'portfolio manager') return { refusal: REFUSAL, usage: { prompt_tokens: 800, completion_tokens: 15 } };
  // The analysts' answers say `"usage": null`, the trader's carries none; the rest report theirs.
  const analyst = r.role.endsWith(' analyst') && !r.role.includes('risk');
  return { content: defaultAnswer(r.role), usage: analyst ? null : { prompt_tokens: 1000 + r.body.messages.length, completion_tokens: 200 }, omitUsage: r.role === 'trader' };
});
const app = api();
beforeAll(async () => {
  await waitFor(() => redis.status === 'ready');
  await startWorker();
});

const profile = agentProfileSchema.parse({ engine: 'llm', debate_rounds: 1, risk_rounds: 1 });
async function enqueue(agent: string, ticker: string) {
  const data = cycleJobDataSchema.parse({ agent, ticker, trigger: 'api', date: '2026-11-20', requested_at: new Date().toISOString(), profile, overlap: 'allow' });
  return queues['trading-cycle'].add(CYCLE_JOB_NAME, data, { ...cycleJobOptions('trading-cycle', config), attempts: 3, jobId: randomUUID() });
}
const settled = (id: string, state: 'completed' | 'failed') => waitFor(async () => (await queues['trading-cycle'].getJob(id).then((j) => j?.getState())) === state, 30_000);

/** Sum of a metric's samples whose labels include these. */
function sum(text: string, name: string, labels: Record<string, string>): number {
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`) && Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)))
    .reduce((n, l) => n + Number(l.split(' ').pop()), 0);
}

describe('LLM usage: the result and /metrics', () => {
  it('count the same tokens and cost; calls without usage make the cost unknown, counted as such, never $0', async () => {
    const job = await enqueue('usage-desk', 'NVDA');
    await settled(job.id!, 'completed');
    const result = ((await queues['trading-cycle'].getJob(job.id!))!.returnvalue as { result: CycleResult }).result;
    const unreported = result.calls!.filter((c) => c.usage_unknown);
    // Simulated prices get no research: the market analyst's and the trader's answers came without usage.
    expect(unreported.map((c) => c.role).sort()).toEqual(['market analyst', 'trader']);
    expect(result.usage).toMatchObject({ cost_unknown: true, usage_unknown: true, calls: result.calls!.length });
    expect(result.usage.total_tokens).toBe(result.calls!.reduce((n, c) => n + c.prompt_tokens + c.completion_tokens, 0));
    expect(result.usage.cost_usd).toBeGreaterThan(0);

    const text = (await request(app).get('/metrics')).text;
    const agent = { agent: 'usage-desk' };
    expect(sum(text, 'tradeloop_llm_tokens_total', agent)).toBe(result.usage.total_tokens);
    expect(sum(text, 'tradeloop_llm_cost_usd_total', agent)).toBeCloseTo(result.usage.cost_usd, 6);
    expect(sum(text, 'tradeloop_cycle_cost_usd_total', agent)).toBeCloseTo(result.usage.cost_usd, 6);
    expect(sum(text, 'tradeloop_cycles_cost_unknown_total', agent)).toBe(1);
    expect(sum(text, 'tradeloop_llm_calls_cost_unknown_total', { ...agent, reason: 'no_usage' })).toBe(unreported.length);
    expect(sum(text, 'tradeloop_llm_calls_cost_unknown_total', { ...agent, reason: 'unpriced' })).toBe(0);

    const view = (await request(app).get(`/api/jobs/${job.id}`)).body;
    expect(view).toMatchObject({ cost_usd: result.usage.cost_usd, cost_unknown: true });
  });

  it("a retried cycle's result says what the whole job cost; the metrics count every call once and the job's cost once", async () => {
    const job = await enqueue('retry-desk', 'FLAKY');
    await settled(job.id!, 'completed');
    const done = (await queues['trading-cycle'].getJob(job.id!))!;
    expect(done.attemptsMade).toBe(2);
    const result = (done.returnvalue as { result: CycleResult }).result;
    // The first attempt paid for every call before the portfolio manager's (whose asks failed, unbilled).
    const first = result.calls!.length - 1;
    expect(result.usage).toMatchObject({ calls: result.calls!.length, total_tokens: result.calls!.length * 1200 });
    expect(result.job_usage).toMatchObject({ calls: first + result.calls!.length, total_tokens: (first + result.calls!.length) * 1200 });
    // The same calls but the portfolio manager's (gpt-4o): the first attempt cost that much less.
    expect(result.job_usage!.cost_usd).toBeCloseTo(2 * result.usage.cost_usd - (1000 * 2.5 + 200 * 10) / 1e6, 9);

    const text = (await request(app).get('/metrics')).text;
    const agent = { agent: 'retry-desk' };
    expect(sum(text, 'tradeloop_llm_tokens_total', agent)).toBe(result.job_usage!.total_tokens);
    expect(sum(text, 'tradeloop_llm_cost_usd_total', agent)).toBeCloseTo(result.job_usage!.cost_usd, 6);
    expect(sum(text, 'tradeloop_cycle_cost_usd_total', agent)).toBeCloseTo(result.job_usage!.cost_usd, 6);
    expect((await request(app).get(`/api/jobs/${job.id}`)).body.cost_usd).toBeCloseTo(result.job_usage!.cost_usd, 9);
    const reports = (await request(app).get(`/api/jobs/${job.id}/reports`)).body;
    expect(reports).toMatchObject({ status: 'completed', attempt: 2, usage: result.usage, job_usage: result.job_usage });
    expect(reports.earlier_attempts).toMatchObject({ calls: first, total_tokens: first * 1200 });
  }, 60_000);

  it('a refusal fails the job on its first attempt with the model\'s words; the refused call is counted', async () => {
    const job = await enqueue('refuse-desk', 'REFUSE');
    await settled(job.id!, 'failed');
    const failed = (await queues['trading-cycle'].getJob(job.id!))!;
    expect(failed.attemptsMade).toBe(1);
    expect(failed.failedReason).toBe(`the portfolio manager model "gpt-4o" refused to answer: ${REFUSAL}`);
    const refusals = server.requests.filter((r) => r.role === 'portfolio manager' && r.body.messages.some((m) => m.content.includes('REFUSE')));
    expect(refusals).toHaveLength(1);
    const view = (await request(app).get(`/api/jobs/${job.id}`)).body;
    expect(view.attempts_log).toHaveLength(1);
    expect(view.attempts_log[0]).toMatchObject({ outcome: 'failed', error_name: 'LlmRefusalError' });
    const reports = (await request(app).get(`/api/jobs/${job.id}/reports`)).body;
    expect(reports).toMatchObject({ status: 'failed', error: failed.failedReason });
    expect(reports.calls.at(-1)).toMatchObject({ role: 'portfolio manager', prompt_tokens: 800, completion_tokens: 15 });
    const text = (await request(app).get('/metrics')).text;
    expect(sum(text, 'tradeloop_llm_tokens_total', { agent: 'refuse-desk' })).toBe(reports.usage.total_tokens);
  });
});

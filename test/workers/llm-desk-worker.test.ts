import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { agentProfileSchema, CYCLE_JOB_NAME, cycleJobDataSchema, cycleJobOptions } from '../../src/core/index.ts';
import { defaultAnswer } from '../support/fake-openai-server.ts';
import { llmWorkerHarness } from '../support/llm-worker-harness.ts';
import { waitFor } from '../support/redis-test-env.ts';

/**
 * The LLM desk through a real worker (BullMQ, in-process runner, the built-in trading cycle on simulated
 * prices) against the local OpenAI-compatible server: a deterministic 400 ends the job on its first
 * attempt, with the server's message, and the reports finished before it stay readable through the API.
 */
const CONTEXT_OVERFLOW = "This model's maximum context length is 400000 tokens. However, your messages resulted in 412345 tokens. Please reduce the length of the messages.";
let failMode: 'overflow' | 'flaky' = 'overflow';
let flakyFailures = 0;
const { server, config, queues, app, startWorker } = await llmWorkerHarness('llm-worker', (r) => {
  if (r.role === 'research manager' && failMode === 'overflow') return { status: 400, error: { message: CONTEXT_OVERFLOW, type: 'invalid_request_error', code: 'context_length_exceeded' } };
  if (r.role === 'research manager' && failMode === 'flaky' && flakyFailures < 1) {
    flakyFailures++;
    return { status: 503, error: { message: 'overloaded' } };
  }
  return { content: defaultAnswer(r.role) };
}, { CYCLE_BACKOFF_MS: '50' });

const profile = agentProfileSchema.parse({ engine: 'llm', quick_model: 'gpt-5-mini', deep_model: 'gpt-5', debate_rounds: 1, risk_rounds: 1 });
async function enqueue() {
  const data = cycleJobDataSchema.parse({ agent: 'gpt5-desk', ticker: 'NVDA', trigger: 'api', date: '2026-11-20', requested_at: new Date().toISOString(), profile, overlap: 'allow' });
  // Three attempts, as the queue's default: a retry would be possible if the error were not final.
  return queues['trading-cycle'].add(CYCLE_JOB_NAME, data, { ...cycleJobOptions('trading-cycle', config), attempts: 3, jobId: randomUUID() });
}

describe('LLM desk through a real worker', () => {
  it('a deterministic 400 (context overflow) fails the job once, with the server\'s message; its finished reports stay readable', async () => {
    await startWorker();
    const job = await enqueue();
    await waitFor(async () => (await queues['trading-cycle'].getJob(job.id!).then((j) => j?.getState())) === 'failed', 30_000);
    // Read once the job is settled: a hash read before the state check could predate the failure.
    const failed = await queues['trading-cycle'].getJob(job.id!);
    expect(failed!.attemptsMade).toBe(1);
    expect(failed!.failedReason).toBe(`LLM server rejected the research manager request to "gpt-5" (400): ${CONTEXT_OVERFLOW}`);
    expect(server.requests.filter((r) => r.role === 'research manager')).toHaveLength(1);
    expect(server.requests.filter((r) => r.role === 'market analyst')).toHaveLength(1);

    const res = await request(app()).get(`/api/jobs/${job.id}/reports`);
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('failed');
    expect(res.body.error).toContain(CONTEXT_OVERFLOW);
    expect(res.body.role_reports.market_analyst).toBe('market analyst says: looks fine.');
    expect(res.body.role_reports.bear_researcher).toBe('Round 1: bear researcher says: looks fine.');
    expect(res.body.role_reports.research_manager).toBeUndefined();
    // Simulated prices get no real research: only the market analyst and the two researchers were asked.
    expect(res.body.calls.map((c: { role: string }) => c.role).sort()).toEqual(['bear researcher', 'bull researcher', 'market analyst']);
    expect(res.body.usage.calls).toBe(3);
    expect(res.body.usage.cost_usd).toBeGreaterThan(0);
    expect((await request(app()).get('/api/jobs/no-such-job/reports')).status).toBe(404);
  });

  it('a 503 stays transient: retried inside the call, the job completes with calls[] summing to usage', async () => {
    failMode = 'flaky';
    const job = await enqueue();
    await waitFor(async () => (await queues['trading-cycle'].getJob(job.id!).then((j) => j?.getState())) === 'completed', 30_000);
    const done = await queues['trading-cycle'].getJob(job.id!);
    expect(done!.attemptsMade).toBe(1);
    const result = (done!.returnvalue as { result: { calls: Array<{ role: string; attempt: number; cost_usd: number }>; usage: { calls: number; cost_usd: number }; role_reports: Record<string, string> } }).result;
    expect(result.calls.find((c) => c.role === 'research manager')!.attempt).toBe(2);
    expect(result.calls).toHaveLength(result.usage.calls);
    expect(result.calls.reduce((a, c) => a + c.cost_usd, 0)).toBeCloseTo(result.usage.cost_usd, 6);
    expect(result.role_reports.portfolio_manager).toMatch(/^Overweight \(confidence 0\.7\)/);
  });
});

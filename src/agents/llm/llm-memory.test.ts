import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { agentProfileSchema, cycleJobDataSchema, type Config } from '../../core/index.ts';
import type { CycleContext } from '../cycle-context.ts';
import { listLessons } from '../memory/lesson-log.ts';
import { scorecardKeys, type ScoredDecision } from '../scorecard/decision-log.ts';
import { analyseTradingCycle, runTradingCycle } from '../trading-cycle.ts';
import { defaultAnswer, startFakeOpenAI } from '../../../test/support/fake-openai-server.ts';
import { deletePrefix, silentLogger, testConfig } from '../../../test/support/redis-test-env.ts';

const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const server = await startFakeOpenAI((r) => ({ content: r.role === 'reflection analyst' ? 'LESSON-7: the breakout held; trust volume-confirmed trends.' : defaultAnswer(r.role) }));
const config: Config = testConfig('llm-memory', { OPENAI_BASE_URL: server.baseURL, OPENAI_API_KEY: 'k', MARKET_DATA: 'simulated' });
afterAll(async () => {
  await server.close();
  redis.disconnect();
  await deletePrefix(config.QUEUE_PREFIX);
});

const profile = agentProfileSchema.parse({ engine: 'llm', quick_model: 'gpt-5-mini', deep_model: 'gpt-5', debate_rounds: 0, risk_rounds: 0, analysts: ['market'] });
/**
 * A cycle of `date`'s own session, run at 15:30 New York that day (only live sessions fill the paper
 * portfolio and count on the scorecard); `asOf` runs a backdated analysis from a later day instead.
 */
const cycle = (jobId: string, date: string, asOf?: string) => {
  const at = new Date(`${asOf ?? date}T20:30:00Z`);
  const ctx: CycleContext = { config, redis, logger: silentLogger, signal: new AbortController().signal, jobId, attempt: 1, reportProgress: async () => {}, now: () => at };
  return runTradingCycle(cycleJobDataSchema.parse({ agent: 'memo', ticker: 'NVDA', trigger: 'manual', date, profile }), ctx);
};
const pmPrompt = (from: number) => server.requests.slice(from).find((r) => r.role === 'portfolio manager')!.body.messages.find((m) => m.role === 'user')!.content;

describe('memory: a scored decision becomes a lesson the portfolio manager reads', () => {
  it('the second cycle after a decision whose 5-session return is known carries a lesson; a backdated one does not', async () => {
    const first = await cycle('decision-1', '2026-11-10');
    expect(first.lessons_used).toEqual([]);
    expect(server.requests.some((r) => r.role === 'reflection analyst')).toBe(false);

    // 2026-11-16 is 4 sessions after 2026-11-10: the outcome is not known yet on that date.
    let seen = server.requests.length;
    const early = await cycle('decision-2', '2026-11-16');
    expect(server.requests.slice(seen).some((r) => r.role === 'reflection analyst')).toBe(false);
    expect(early.lessons_used).toEqual([]);
    expect(pmPrompt(seen)).toContain('(none yet)');

    seen = server.requests.length;
    const later = await cycle('decision-3', '2026-11-20');
    const reflections = server.requests.slice(seen).filter((r) => r.role === 'reflection analyst');
    // Decision 1 is scored (+5 sessions = 2026-11-17); decision 2's +5 session is after 2026-11-20.
    expect(reflections).toHaveLength(1);
    expect(reflections[0]!.body.model).toBe('gpt-5-mini');
    expect(reflections[0]!.body.messages[1]!.content).toMatch(/Decision on NVDA for 2026-11-10: BUY \(Overweight, confidence 0\.7\)/);
    expect(reflections[0]!.body.messages[1]!.content).toContain("The portfolio manager's reasoning then: Overweight (confidence 0.7): go long");
    expect(later.lessons_used).toEqual([{ ticker: 'NVDA', date: '2026-11-10', lesson: 'LESSON-7: the breakout held; trust volume-confirmed trends.' }]);
    expect(pmPrompt(seen)).toMatch(/Lessons from past NVDA decisions:\n- NVDA 2026-11-10 \(BUY, Overweight; 5-session return -?\d+\.\d\d %\): LESSON-7/);

    const scored = JSON.parse((await redis.hget(scorecardKeys(config.QUEUE_PREFIX).entries('memo'), 'decision-1'))!) as ScoredDecision;
    expect(scored.return_5d).not.toBeNull();
    const [lesson] = await listLessons(redis, config.QUEUE_PREFIX, 'memo', { ticker: 'NVDA' });
    expect(lesson).toMatchObject({ job_id: 'decision-1', agent: 'memo', ticker: 'NVDA', date: '2026-11-10', decision: 'BUY', known_on: '2026-11-17', return_5d: scored.return_5d });

    // One lesson per decision: the next cycle does not reflect on it again, and a backdated one does not see it.
    seen = server.requests.length;
    await cycle('decision-4', '2026-11-20');
    expect(server.requests.slice(seen).some((r) => r.role === 'reflection analyst')).toBe(false);
    seen = server.requests.length;
    const backdated = await cycle('decision-5', '2026-11-13', '2026-11-20');
    expect(backdated.lessons_used).toEqual([]);
    expect(pmPrompt(seen)).not.toContain('LESSON-7');
  });
});

describe('memory is not the analysis', () => {
  it('a Redis refusing writes while the desk reflects (scoring, lessons) does not fail the cycle or repeat its model calls', async () => {
    const own: Config = testConfig('llm-memory-ro', { OPENAI_BASE_URL: server.baseURL, OPENAI_API_KEY: 'k', MARKET_DATA: 'simulated' });
    const at = (d: string) => new Date(`${d}T20:30:00Z`);
    const ctxOf = (r: Redis, jobId: string, d: string): CycleContext => ({ config: own, redis: r, logger: silentLogger, signal: new AbortController().signal, jobId, attempt: 1, reportProgress: async () => {}, now: () => at(d) });
    const job = (d: string) => cycleJobDataSchema.parse({ agent: 'memo-ro', ticker: 'AMD', trigger: 'manual', date: d, profile });
    // A decision on record, waiting to be scored.
    await runTradingCycle(job('2026-11-10'), ctxOf(redis, 'ro-1', '2026-11-10'));
    // The same Redis, through a user that may read and not write (as under OOM or on a replica).
    const user = `ro-${own.QUEUE_PREFIX}`;
    await redis.call('ACL', 'SETUSER', user, 'on', '>ro-secret-pass', '~*', '&*', '+@read', '+@connection', '+info');
    const readOnly = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { username: user, password: 'ro-secret-pass' });
    try {
      expect(await readOnly.set(`${own.QUEUE_PREFIX}:probe`, '1').catch((e: Error) => e.message)).toMatch(/NOPERM/);
      const seen = server.requests.length;
      const analysis = await analyseTradingCycle(job('2026-11-20'), ctxOf(readOnly, 'ro-2', '2026-11-20'));
      expect(analysis.decision).toBe('BUY');
      // One pass through the desk (market analyst, trader, portfolio manager): nothing asked twice.
      const roles = server.requests.slice(seen).map((r) => r.role);
      expect(new Set(roles).size).toBe(roles.length);
      expect(roles).toContain('portfolio manager');
    } finally {
      readOnly.disconnect();
      await redis.call('ACL', 'DELUSER', user);
      await deletePrefix(own.QUEUE_PREFIX);
    }
  });
});

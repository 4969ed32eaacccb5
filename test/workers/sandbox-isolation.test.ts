import { resolve } from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { BUILTIN_AGENTS, cycleJobDataSchema } from '../../src/core/index.ts';
import { childEnv } from '../../src/tasks/child-env.ts';
import { createSandboxRunner } from '../../src/tasks/sandbox-runner.ts';
import { silentLogger, testConfig } from '../support/redis-test-env.ts';

const data = (ticker: string) => cycleJobDataSchema.parse({ agent: 'quant', ticker, trigger: 'api', profile: BUILTIN_AGENTS.quant, overlap: 'allow' });
const request = (ticker: string, signal: AbortSignal, jobId = 'j') => ({
  data: data(ticker),
  jobId,
  attempt: 1,
  queue: 'trading-cycle' as const,
  softTimeLimitMs: 20_000,
  hardTimeLimitMs: 30_000,
  signal,
  onProgress: async () => undefined,
});

describe('sandbox children', () => {
  it('get an allow-listed environment: config and system variables, never the dashboard tokens or unrelated secrets', async () => {
    const config = testConfig('sandbox-env', {
      CYCLE_MODULE: resolve('test/support/env-cycle.ts'),
      DASHBOARD_TOKEN: 'dashboard-secret-token-123',
      DASHBOARD_READ_TOKEN: 'dashboard-read-token-456',
      OPENAI_API_KEY: 'sk-the-cycle-needs-this',
      DATABASE_URL: 'postgres://tradeloop:db-secret-pass@127.0.0.1:5432/tradeloop',
    });
    const base = { PATH: process.env.PATH, HOME: '/tmp', AWS_SECRET_ACCESS_KEY: 'aws-secret', GITHUB_TOKEN: 'gh-secret', DASHBOARD_TOKEN: 'dashboard-secret-token-123', CYCLE_ENV_PASS: 'MY_CYCLE_SETTING', MY_CYCLE_SETTING: 'on' };
    const runner = createSandboxRunner({ maxJobsPerChild: 5, env: childEnv(config, base), logger: silentLogger });
    try {
      const result = await runner.run(request('SPY', new AbortController().signal));
      const env = JSON.parse(result.reports.final) as Record<string, string>;
      expect(env.OPENAI_API_KEY).toBe('sk-the-cycle-needs-this');
      expect(env.QUEUE_PREFIX).toBe(config.QUEUE_PREFIX);
      expect(env.MY_CYCLE_SETTING).toBe('on');
      expect(env.PATH).toBe(process.env.PATH);
      for (const name of ['DASHBOARD_TOKEN', 'DASHBOARD_READ_TOKEN', 'AWS_SECRET_ACCESS_KEY', 'GITHUB_TOKEN', 'DATABASE_URL']) expect(env[name], name).toBeUndefined();
      expect(result.reports.final).not.toMatch(/dashboard-secret|dashboard-read|aws-secret|gh-secret|db-secret/);
    } finally {
      await runner.close();
    }
  });

  it('a child above the memory cap after a cycle is replaced; under it, a child runs cycle after cycle', async () => {
    const config = testConfig('sandbox-memory', { CYCLE_MODULE: resolve('test/support/env-cycle.ts') });
    const runs = async (maxChildMemoryMb: number) => {
      const runner = createSandboxRunner({ maxJobsPerChild: 100, maxChildMemoryMb, env: childEnv(config), logger: silentLogger });
      const pids = new Set<number>();
      try {
        for (let i = 0; i < 4; i++) {
          const running = runner.run(request('SPY', new AbortController().signal, `m${i}`));
          for (const pid of runner.childPids()) pids.add(pid);
          await running;
        }
      } finally {
        await runner.close();
      }
      return pids.size;
    };
    // 1 MB: every child is over it after its first cycle (a Node process holds tens of MB; a child's first
    // cycle always carries a reading).
    expect(await runs(1)).toBe(4);
    expect(await runs(4096)).toBe(1);
  });

  it('the worker survives children that die at any moment, even while it sends them an abort', async () => {
    const config = testConfig('sandbox-death', { CYCLE_MODULE: resolve('test/support/env-cycle.ts') });
    const warnings: string[] = [];
    const logger = pino({ level: 'debug' }, { write: (line: string) => void warnings.push(line) });
    const runner = createSandboxRunner({ maxJobsPerChild: 50, env: childEnv(config), logger });
    let crashes = 0;
    try {
      for (let i = 0; i < 8; i++) {
        const controller = new AbortController();
        const running = runner.run(request(`SLEEP${i}`, controller.signal, `j${i}`));
        // Wait until the child is running the cycle, at a different moment each round.
        for (let t = 0; t < 100 && runner.childPids().length === 0; t++) await new Promise((r) => setTimeout(r, 20));
        await new Promise((r) => setTimeout(r, (i % 4) * 15));
        const [pid] = runner.childPids();
        process.kill(pid!, 'SIGKILL');
        // The abort is sent to a child that is already gone: it must not become an uncaught error.
        controller.abort('cancelled by test');
        // Killed while running ('SandboxCrash') or while starting up: either way a failed job, not a dead worker.
        const outcome = await running.then(() => 'completed', (err: Error) => (err.name === 'SandboxCrash' || /during start-up/.test(err.message) ? 'crash' : `${err.name}: ${err.message}`));
        if (outcome === 'crash') crashes++;
        expect(['crash', 'completed']).toContain(outcome);
      }
      // A child that closed its channel but lives on: the abort and the soft limit meet a closed channel,
      // and the hard limit still ends the cycle.
      const unplugged = new AbortController();
      const hung = runner.run({ ...request('UNPLUG', unplugged.signal, 'unplug'), softTimeLimitMs: 300, hardTimeLimitMs: 1_500 });
      await new Promise((r) => setTimeout(r, 600));
      unplugged.abort('cancelled by test');
      await expect(hung).rejects.toMatchObject({ name: 'HardTimeLimit' });
      // The runner still works after all of that.
      const ok = await runner.run(request('SPY', new AbortController().signal, 'after'));
      expect(ok.ticker).toBe('SPY');
    } finally {
      await runner.close();
    }
    expect(crashes).toBeGreaterThan(4);
  });
});

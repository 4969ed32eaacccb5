import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadScheduleFile, parseScheduleText, ScheduleFileError } from './index.ts';

function issuesOf(text: string) {
  try {
    parseScheduleText(text, 'test.yaml');
  } catch (err) {
    if (err instanceof ScheduleFileError) return err.issues;
    throw err;
  }
  throw new Error('expected the file to be rejected');
}

describe('schedule file', () => {
  it('loads the shipped schedules.yaml', async () => {
    const set = await loadScheduleFile('schedules.yaml');
    const ids = set.schedules.map((s) => s.id);
    expect(ids).toContain('heartbeat');
    const spy = set.schedules.find((s) => s.tickers.includes('TSLA'))!;
    expect(spy.tickers).toEqual(['SPY', 'TSLA']);
    expect(spy.every).toBe(300_000);
    expect(spy.market_hours).toBe('regular');
    const hb = set.schedules.find((s) => s.id === 'heartbeat')!;
    expect(hb.enabled).toBe(false);
    expect(hb.market_hours).toBe('always');
  });

  it('applies defaults and accepts `ticker` for one', () => {
    const set = parseScheduleText('schedules:\n  - id: a\n    agent: quant\n    ticker: aapl\n    every: 30s\n');
    expect(set.schedules[0]).toMatchObject({
      id: 'a',
      tickers: ['AAPL'],
      every: 30_000,
      market_hours: 'regular',
      dry_run: true,
      enabled: true,
      queue: 'trading-cycle',
      overlap: 'skip',
      catch_up: 'none',
    });
  });

  it('accepts cron with a time zone', () => {
    const set = parseScheduleText('schedules:\n  - id: c\n    agent: quant\n    tickers: [SPY]\n    cron: "*/15 9-16 * * 1-5"\n    timezone: Europe/London\n');
    expect(set.schedules[0]!.cron).toBe('*/15 9-16 * * 1-5');
    expect(set.schedules[0]!.timezone).toBe('Europe/London');
  });

  it('names line, field and reason for a bad duration', () => {
    const issues = issuesOf('schedules:\n  - id: a\n    agent: quant\n    ticker: SPY\n    every: 5x\n');
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ file: 'test.yaml', line: 5, field: 'schedules[0].every' });
    expect(issues[0]!.message).toMatch(/invalid duration "5x"/);
  });

  it('points at an unknown key', () => {
    const issues = issuesOf('schedules:\n  - id: a\n    agent: quant\n    ticker: SPY\n    every: 5m\n    evrey: 1m\n');
    expect(issues[0]).toMatchObject({ line: 6, field: 'schedules[0].evrey', message: 'unknown key "evrey"' });
  });

  it('rejects duplicate ids, unknown agents, bad cron and bad time zones', () => {
    const text = [
      'schedules:',
      '  - id: a',
      '    agent: quant',
      '    ticker: SPY',
      '    every: 5m',
      '  - id: a',
      '    agent: ghost',
      '    ticker: SPY',
      '    cron: "61 * * * *"',
      '    timezone: Mars/Olympus',
    ].join('\n');
    const issues = issuesOf(text);
    const byField = Object.fromEntries(issues.map((i) => [i.field, i]));
    expect(byField['schedules[1].id']!.message).toMatch(/duplicate id "a"/);
    expect(byField['schedules[1].id']!.line).toBe(6);
    expect(byField['schedules[1].agent']!.message).toMatch(/unknown agent "ghost"/);
    expect(byField['schedules[1].agent']!.line).toBe(7);
    expect(byField['schedules[1].cron']!.message).toMatch(/invalid cron/);
    expect(byField['schedules[1].timezone']!.message).toMatch(/unknown time zone/);
  });

  it('rejects bad tickers, both every and cron, and missing tickers', () => {
    const issues = issuesOf('schedules:\n  - id: a\n    agent: quant\n    tickers: ["SP Y"]\n    every: 5m\n  - id: b\n    agent: quant\n    every: 5m\n    cron: "* * * * *"\n');
    const fields = issues.map((i) => i.field);
    expect(fields).toContain('schedules[0].tickers[0]');
    expect(fields).toContain('schedules[1].tickers');
    expect(fields).toContain('schedules[1].cron');
  });

  it('rejects a hard time limit below the soft one (the worker would silently raise it)', () => {
    const issues = issuesOf('schedules:\n  - id: a\n    agent: quant\n    ticker: SPY\n    every: 5m\n    soft_time_limit: 2m\n    hard_time_limit: 1m\n');
    expect(issues.map((i) => [i.field, i.line])).toEqual([['schedules[0].hard_time_limit', 7]]);
    expect(issues[0]!.message).toMatch(/at least soft_time_limit/);
  });

  it('refuses dry_run: false at its line (no broker adapter), so no schedule is armed to fail every run', () => {
    const issues = issuesOf('schedules:\n  - id: live\n    agent: quant\n    ticker: SPY\n    every: 5m\n    dry_run: false\n');
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ line: 6, field: 'schedules[0].dry_run' });
    expect(issues[0]!.message).toMatch(/false is refused: no broker adapter/);
  });

  it('reports YAML syntax errors with a line', () => {
    const issues = issuesOf('schedules:\n  - id: a\n   agent: [unclosed\n');
    expect(issues[0]!.message).toMatch(/YAML syntax/);
    expect(issues[0]!.line).toBeGreaterThan(0);
  });

  it('says when the file is missing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tl-'));
    await expect(loadScheduleFile(join(dir, 'nope.yaml'))).rejects.toThrow(/file not found/);
    writeFileSync(join(dir, 'empty.yaml'), '');
    expect((await loadScheduleFile(join(dir, 'empty.yaml'))).schedules).toEqual([]);
  });

  it('validates agent profiles', () => {
    const issues = issuesOf('agents:\n  desk:\n    engine: magic\nschedules: []\n');
    expect(issues[0]).toMatchObject({ field: 'agents.desk.engine', line: 3 });
  });
});

import { runCli } from '../support/cli-process.ts';
import { afterAll, describe, expect, it } from 'vitest';
import { closedDatabaseUrl, dropSchema, query, TEST_DATABASE_URL, uniqueSchema } from '../support/pg-test-env.ts';

const schema = uniqueSchema('db_cli');
afterAll(() => dropSchema(schema));

function cli(args: string[], env: Record<string, string | undefined>) {
  return runCli(['db', ...args], { ...process.env, DATABASE_URL: undefined, DATABASE_SCHEMA: undefined, LOG_LEVEL: 'silent', ...env });
}

describe('tradeloop db', () => {
  it('status shows pending migrations (exit 1), migrate applies them once, status is then clean (exit 0)', async () => {
    const env = { DATABASE_URL: TEST_DATABASE_URL, DATABASE_SCHEMA: schema };
    const before = await cli(['status', '--json'], env);
    expect(before.code).toBe(1);
    expect(JSON.parse(before.out)).toMatchObject({ schema, applied: [], pending: ['1764633600000_history-tables', '1796256000000_cycle-calls-usage-unknown'] });
    const migrate = await cli(['migrate', '--json'], env);
    expect(migrate.code).toBe(0);
    expect(JSON.parse(migrate.out).applied).toEqual(['1764633600000_history-tables', '1796256000000_cycle-calls-usage-unknown']);
    expect((await cli(['migrate'], env)).out).toMatch(/up to date/);
    const after = await cli(['status'], env);
    expect(after.code).toBe(0);
    expect(after.out).toMatch(/2 applied, 0 pending/);
    expect(await query(schema, 'SELECT 1 FROM cycles')).toEqual([]);
  }, 60_000);

  it('says what is wrong, never the password: no DATABASE_URL (2), a bad one (2), an unreachable one (3)', async () => {
    const none = await cli(['status'], {});
    expect(none.code).toBe(2);
    expect(none.err).toMatch(/DATABASE_URL is not set/);
    const bad = await cli(['status'], { DATABASE_URL: 'mysql://u:hunter2-secret@db/x' });
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/DATABASE_URL=\(hidden\)/);
    expect(bad.err).not.toContain('hunter2');
    const down = await cli(['status'], { DATABASE_URL: await closedDatabaseUrl() });
    expect(down.code).toBe(3);
    expect(down.err).toMatch(/cannot reach PostgreSQL at 127\.0\.0\.1:\d+\/test/);
    expect(down.err).not.toContain('not-the-password');
    expect((await cli(['nonsense'], {})).code).toBe(2);
  }, 60_000);
});

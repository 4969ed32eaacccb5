import { describe, expect, it } from 'vitest';
import { ensurePackages, ensurePostgres, type Need } from './global-setup.ts';
import { closedDatabaseUrl } from './pg-test-env.ts';

const need = (present: boolean, debian: string): Need & { installed: boolean } => {
  const n = { what: `thing from ${debian}`, debian, installed: present, present: () => n.installed };
  return n;
};

describe('test setup', () => {
  it('names every missing program and the command that installs it when it may not install', () => {
    const needs = [need(false, 'chromium'), need(true, 'redis-server'), need(false, 'prometheus')];
    expect(() => ensurePackages(needs, { root: false, apt: true, install: () => {} })).toThrow(/sudo apt-get install -y chromium prometheus/);
    expect(() => ensurePackages(needs, { root: true, apt: false, install: () => {} })).toThrow(/thing from chromium \(Debian package "chromium"\)/);
  });

  it('installs exactly the missing packages as root, and fails if they still are not there', () => {
    const needs = [need(false, 'chromium'), need(true, 'redis-server')];
    const asked: string[][] = [];
    ensurePackages(needs, { root: true, apt: true, install: (p) => (asked.push(p), (needs[0]!.installed = true)) });
    expect(asked).toEqual([['chromium']]);
    const broken = [need(false, 'prometheus')];
    expect(() => ensurePackages(broken, { root: true, apt: true, install: () => {} })).toThrow(/still missing after apt-get install: thing from prometheus/);
  });

  it('finds what this machine needs for the suite', async () => {
    expect(() => ensurePackages()).not.toThrow();
    await expect(ensurePostgres()).resolves.toBeUndefined();
  });

  it('stops with how to get PostgreSQL when none answers, never printing the password', async () => {
    const err = (await ensurePostgres(await closedDatabaseUrl()).catch((e: unknown) => e)) as Error;
    expect(err.message).toMatch(/need PostgreSQL at postgres:\/\/root:\(hidden\)@127\.0\.0\.1:\d+\/test/);
    expect(err.message).toMatch(/apt-get install -y postgresql/);
    expect(err.message).not.toContain('not-the-password');
  });
});

import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { startScheduler } from '../../src/scheduler/index.ts';
import { deletePrefix, silentLogger, testConfig, TEST_REDIS_URL } from '../support/redis-test-env.ts';

/**
 * The container deployment, checked statically (no Docker engine needed): the Dockerfile and
 * compose.yaml parsed, every service's command an existing npm script, a health check everywhere, no
 * secret written into either file. The health command the images call is run for real.
 */
const dockerfile = readFileSync('Dockerfile', 'utf8');
const compose = parse(readFileSync('compose.yaml', 'utf8'), { merge: true }) as {
  services: Record<string, { image?: string; build?: unknown; command?: string[]; healthcheck?: { test: string[] }; environment?: Record<string, string>; profiles?: string[]; deploy?: { replicas?: unknown } }>;
};
const scripts = (JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> }).scripts;
const SECRET = /PASSWORD|TOKEN|SECRET|_KEY$|KEY_ID$|AUTH$|DATABASE_URL/;
const ours = Object.entries(compose.services).filter(([, s]) => s.image === 'tradeloop:latest');

/** Dockerfile instructions, continuation lines joined. */
const instructions = dockerfile
  .replace(/\\\n/g, ' ')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'));

describe('Dockerfile', () => {
  it('is multi-stage, runs as a non-root user, has a health check and a default command that is an npm script', () => {
    const stages = instructions.filter((l) => /^FROM\s/i.test(l));
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(instructions.some((l) => /^COPY --from=/.test(l))).toBe(true);
    const users = instructions.filter((l) => /^USER\s/.test(l));
    expect(users.length).toBeGreaterThan(0);
    expect(users.at(-1)).not.toMatch(/^USER\s+(root|0)(\s|:|$)/);
    // The user is set in the last stage, before the command.
    const lastFrom = instructions.lastIndexOf(stages.at(-1)!);
    expect(instructions.indexOf(users.at(-1)!)).toBeGreaterThan(lastFrom);
    const health = instructions.find((l) => l.startsWith('HEALTHCHECK'));
    expect(health).toMatch(/CMD \["node", "bin\/tradeloop\.mjs", "health"\]/);
    const cmd = JSON.parse(instructions.find((l) => l.startsWith('CMD '))!.slice(4)) as string[];
    expect(cmd.slice(0, 2)).toEqual(['npm', 'run']);
    expect(scripts[cmd[2]!]).toBeDefined();
  });

  it('bakes no secret in: no ENV or ARG naming a password, token or key, no .env copied', () => {
    const envs = instructions.filter((l) => /^(ENV|ARG)\s/.test(l)).flatMap((l) => l.replace(/^(ENV|ARG)\s+/, '').split(/\s+(?=[A-Z_]+=)/));
    expect(envs.length).toBeGreaterThan(0);
    expect(envs.filter((e) => SECRET.test(e.split('=')[0]!))).toEqual([]);
    expect(instructions.filter((l) => /^COPY/.test(l) && /\.env\b/.test(l))).toEqual([]);
    expect(readFileSync('.dockerignore', 'utf8').split('\n')).toContain('.env');
  });
});

describe('compose.yaml', () => {
  it('has redis (AOF, noeviction), scheduler, scalable workers, dashboard, and ollama / postgres behind profiles', () => {
    const s = compose.services;
    expect(Object.keys(s).sort()).toEqual(['dashboard', 'ollama', 'postgres', 'redis', 'scheduler', 'worker']);
    const redisCmd = s.redis!.command!.join(' ');
    expect(redisCmd).toContain('--appendonly yes');
    expect(redisCmd).toContain('--maxmemory-policy noeviction');
    expect(s.ollama!.profiles).toEqual(['ollama']);
    expect(s.postgres!.profiles).toEqual(['postgres']);
    expect(s.worker!.deploy?.replicas).toBeDefined();
    // No fixed container_name / host port on workers, or --scale would collide.
    expect(Object.keys(s.worker!)).not.toContain('container_name');
    expect(Object.keys(s.worker!)).not.toContain('ports');
  });

  it('runs one image for every tradeloop role, each an existing npm script, each with its role health check', () => {
    expect(ours.map(([n]) => n).sort()).toEqual(['dashboard', 'scheduler', 'worker']);
    for (const [name, svc] of ours) {
      expect(svc.build, name).toBe('.');
      const [npm, run, script] = svc.command!;
      expect([npm, run], name).toEqual(['npm', 'run']);
      expect(scripts[script!], `${name}: npm script ${script}`).toBeDefined();
      expect(script).toBe(name);
      expect(svc.healthcheck?.test, name).toEqual(['CMD', 'node', 'bin/tradeloop.mjs', 'health', '--role', name]);
      expect(svc.environment?.TRADELOOP_ROLE).toBe(name);
      // The postgres profile's database reaches every role through the environment, its password apart from the URL.
      expect(svc.environment?.DATABASE_URL, name).toBe('${DATABASE_URL:-}');
      expect(svc.environment?.PGPASSWORD, name).toBe('${POSTGRES_PASSWORD:-}');
    }
  });

  it('gives every service a health check and takes every secret from the environment', () => {
    for (const [name, svc] of Object.entries(compose.services)) {
      expect(svc.healthcheck?.test?.length, `${name} health check`).toBeGreaterThan(1);
      for (const [key, value] of Object.entries(svc.environment ?? {})) {
        if (SECRET.test(key)) expect(String(value), `${name}.${key}`).toMatch(/^\$\{[A-Z_]+(:[-?][^}]*)?\}$/);
        // No credentials inside a URL either.
        expect(String(value), `${name}.${key}`).not.toMatch(/:\/\/[^/$]*:[^/@$]+@/);
      }
    }
  });
});

describe('tradeloop health (the images\' health check)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tl-health-'));
  const file = join(dir, 'schedules.yaml');
  writeFileSync(file, 'schedules: []\n');
  const config = testConfig('health', { SCHEDULES_FILE: file });
  afterAll(() => deletePrefix(config.QUEUE_PREFIX));
  const health = (args: string[], env: Record<string, string> = {}) =>
    new Promise<{ code: number; out: string }>((resolve) => {
      execFile(process.execPath, ['bin/tradeloop.mjs', 'health', ...args], { env: { ...process.env, REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: config.QUEUE_PREFIX, LOG_LEVEL: 'silent', ...env }, encoding: 'utf8' }, (err, out) =>
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, out }),
      );
    });

  it('is healthy for a running scheduler of this host, unhealthy for a role with nothing running, 2 for an unknown role', async () => {
    const scheduler = await startScheduler(config, silentLogger, { watch: false });
    try {
      const r = await health([], { TRADELOOP_ROLE: 'scheduler' });
      expect(r.out).toMatch(/^healthy: scheduler: 1 scheduler\(s\) of .* present, leading/);
      expect(r.code).toBe(0);
    } finally {
      await scheduler.stop();
    }
    const worker = await health(['--role', 'worker']);
    expect(worker.code).toBe(1);
    expect(worker.out).toMatch(/^unhealthy: worker: 0 worker/);
    expect((await health(['--role', 'bogus'])).code).toBe(2);
  }, 90_000);
});

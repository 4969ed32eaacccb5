import { describe, expect, it } from 'vitest';
import { ConfigError, isLoopbackHost, loadConfig, parseDuration, withoutPassword } from './index.ts';

describe('loadConfig', () => {
  it('applies the documented defaults with an empty environment', () => {
    const c = loadConfig({});
    expect(c.REDIS_URL).toBe('redis://127.0.0.1:6379');
    expect(c.QUEUE_PREFIX).toBe('tradeloop');
    expect(c.HOST).toBe('127.0.0.1');
    expect(c.PORT).toBe(3000);
    expect(c.SCHEDULES_FILE).toBe('./schedules.yaml');
    expect(c.LOG_LEVEL).toBe('info');
    expect(c.WORKER_CONCURRENCY).toBe(2);
    expect(c.MARKET_DATA).toBe('auto');
  });

  it('treats empty strings as unset', () => {
    expect(loadConfig({ PORT: '', QUEUE_PREFIX: '' }).PORT).toBe(3000);
  });

  it('coerces numbers and flags', () => {
    const c = loadConfig({ PORT: '8080', WORKER_CONCURRENCY: '4', DASHBOARD_READONLY: 'true', MARKET_CLOSURES: '2025-01-09, 2026-03-02' });
    expect(c.PORT).toBe(8080);
    expect(c.WORKER_CONCURRENCY).toBe(4);
    expect(c.DASHBOARD_READONLY).toBe(true);
    expect(c.MARKET_CLOSURES).toEqual(['2025-01-09', '2026-03-02']);
  });

  it.each([
    ['REDIS_URL', 'http://localhost:6379', 'redis://'],
    ['PORT', '70000', 'PORT'],
    ['PORT', 'abc', 'PORT'],
    ['QUEUE_PREFIX', 'has space', 'QUEUE_PREFIX'],
    ['LOG_LEVEL', 'loud', 'LOG_LEVEL'],
    ['WORKER_CONCURRENCY', '0', 'WORKER_CONCURRENCY'],
    ['MARKET_CLOSURES', '2025/01/09', 'YYYY-MM-DD'],
  ])('rejects %s=%s with a message naming the variable', (name, value, expected) => {
    let caught: unknown;
    try {
      loadConfig({ [name]: value });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as Error).message).toContain(name);
    expect((caught as Error).message).toContain(expected);
  });

  it('never echoes a secret in the error', () => {
    expect(() => loadConfig({ DASHBOARD_TOKEN: 'short-secret' })).toThrow(/DASHBOARD_TOKEN=\(hidden\)/);
    expect(() => loadConfig({ DASHBOARD_TOKEN: 'short-secret' })).not.toThrow(/short-secret/);
  });

  it('never prints the password of a REDIS_URL it rejects', () => {
    for (const url of ['http://user:hunter2-secret@redis.internal:6379', 'redis//:hunter2-secret@host', 'tcp://:hunter2-secret@h:1']) {
      let message = '';
      try {
        loadConfig({ REDIS_URL: url });
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message).toContain('REDIS_URL');
      expect(message, url).not.toContain('hunter2');
    }
    expect(withoutPassword('rediss://:p@ss@h:1')).toBe('rediss://:***@h:1');
  });

  it('takes a PostgreSQL DATABASE_URL and rejects any other without printing its password', () => {
    expect(loadConfig({}).DATABASE_URL).toBeUndefined();
    expect(loadConfig({ DATABASE_URL: 'postgres://u:p@db:5432/tradeloop' }).DATABASE_URL).toBe('postgres://u:p@db:5432/tradeloop');
    expect(loadConfig({ DATABASE_URL: 'postgresql://db/x' }).DATABASE_SCHEMA).toBe('tradeloop');
    for (const url of ['mysql://u:hunter2-secret@db/x', 'postgres//u:hunter2-secret@db', 'not a url hunter2-secret']) {
      let message = '';
      try {
        loadConfig({ DATABASE_URL: url });
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message).toContain('DATABASE_URL=(hidden)');
      expect(message, url).not.toContain('hunter2');
    }
    expect(() => loadConfig({ DATABASE_SCHEMA: 'Bad-Schema' })).toThrow(/DATABASE_SCHEMA/);
  });

  it('reads the security settings, with safe defaults', () => {
    const d = loadConfig({});
    expect(d).toMatchObject({ METRICS_PUBLIC: false, TRUST_PROXY: false, BASE_PATH: '', ALLOWED_HOSTS: [], AUTH_MAX_FAILURES: 10, JOBS_PER_MINUTE: 30, MAX_QUEUE_DEPTH: 1000 });
    const c = loadConfig({ TRUST_PROXY: '2', BASE_PATH: '/tl/', ALLOWED_HOSTS: 'A.example.com, *.corp.example' });
    expect(c).toMatchObject({ TRUST_PROXY: 2, BASE_PATH: '/tl', ALLOWED_HOSTS: ['a.example.com', '*.corp.example'] });
    expect(loadConfig({ TRUST_PROXY: 'loopback, 10.0.0.0/8' }).TRUST_PROXY).toEqual(['loopback', '10.0.0.0/8']);
    expect(loadConfig({ TRUST_PROXY: 'true' }).TRUST_PROXY).toBe(1);
    expect(() => loadConfig({ BASE_PATH: 'tl' })).toThrow(/BASE_PATH/);
    expect(() => loadConfig({ ALLOWED_HOSTS: 'https://x.example' })).toThrow(/ALLOWED_HOSTS/);
    expect(() => loadConfig({ DASHBOARD_READ_TOKEN: 'read-token-0123456789' })).toThrow(/needs DASHBOARD_TOKEN/);
    expect(() => loadConfig({ DASHBOARD_TOKEN: 'same-token-0123456789', DASHBOARD_READ_TOKEN: 'same-token-0123456789' })).toThrow(/must differ/);
  });
});

describe('helpers', () => {
  it('parses schedule durations', () => {
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('5m')).toBe(300_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('1d')).toBe(86_400_000);
    expect(parseDuration('5x')).toBeNull();
    expect(parseDuration('0s')).toBeNull();
    expect(parseDuration('')).toBeNull();
  });

  it('knows loopback hosts', () => {
    expect(isLoopbackHost('127.0.0.1')).toBe(true);
    expect(isLoopbackHost('localhost')).toBe(true);
    expect(isLoopbackHost('::1')).toBe(true);
    expect(isLoopbackHost('0.0.0.0')).toBe(false);
    expect(isLoopbackHost('192.168.1.4')).toBe(false);
  });
});

import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { chooseRedis, embeddedRedisUrl, pingRedis, RedisNotInstalledError } from './embedded-redis.ts';

const CLOSED_PORT = 1; // nothing listens on port 1 here

describe('chooseRedis', () => {
  it('uses REDIS_URL when it is set, starting nothing', async () => {
    const choice = await chooseRedis({ env: { REDIS_URL: 'redis://example:6390' }, dataDir: '/nonexistent', log: () => {} });
    expect(choice).toEqual({ url: 'redis://example:6390', embedded: null });
  });

  it('explains how to install Redis when there is none to start', async () => {
    const err = await chooseRedis({ env: { PATH: '' }, dataDir: mkdtempSync(join(tmpdir(), 'tl-')), log: () => {}, defaultPort: CLOSED_PORT }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RedisNotInstalledError);
    const msg = (err as Error).message;
    expect(msg).toMatch(/apt-get install -y redis-server/);
    expect(msg).toMatch(/brew install redis/);
    expect(msg).toMatch(/docker run/);
    expect(msg).toMatch(/REDIS_URL=/);
  });

  it('starts a private append-only, noeviction redis-server and stops it', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tl-redis-'));
    const logs: string[] = [];
    const choice = await chooseRedis({ env: { PATH: process.env.PATH }, dataDir, log: (m) => logs.push(m), defaultPort: CLOSED_PORT });
    expect(choice.embedded).not.toBeNull();
    // A generated password, kept owner-only under the data directory and never on the command line.
    const password = readFileSync(join(dataDir, 'password'), 'utf8').trim();
    expect(password).toMatch(/^[0-9a-f]{48}$/);
    expect(statSync(join(dataDir, 'password')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dataDir, 'redis.conf')).mode & 0o777).toBe(0o600);
    expect(new URL(choice.url).password).toBe(password);
    expect(readFileSync(`/proc/${choice.embedded!.pid}/cmdline`, 'utf8')).not.toContain(password);
    expect(embeddedRedisUrl(dataDir)).toBe(choice.url);
    const anonymous = await new Promise<string>((resolve) => {
      const socket = createConnection({ host: '127.0.0.1', port: choice.embedded!.port }, () => socket.write('GET k\r\n'));
      socket.once('data', (b) => (socket.destroy(), resolve(b.toString())));
    });
    expect(anonymous).toMatch(/^-NOAUTH/);
    const client = new Redis(choice.url);
    try {
      expect(await client.config('GET', 'appendonly')).toEqual(['appendonly', 'yes']);
      expect(await client.config('GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'noeviction']);
      expect(await client.config('GET', 'dir')).toEqual(['dir', dataDir]);
      await client.set('k', 'v');
    } finally {
      client.disconnect();
    }
    // A second launcher adopts the running server instead of starting another on the same files.
    const again = await chooseRedis({ env: { PATH: process.env.PATH }, dataDir, log: (m) => logs.push(m), defaultPort: CLOSED_PORT });
    expect(again.embedded?.pid).toBe(choice.embedded!.pid);
    expect(again.url).toBe(choice.url);
    await choice.embedded!.stop();
    expect(await pingRedis('127.0.0.1', choice.embedded!.port)).toBe(false);
    expect(existsSync(join(dataDir, 'embedded.json'))).toBe(false);
    expect(existsSync(join(dataDir, 'appendonlydir'))).toBe(true);
  });
});

import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(fileURLToPath(new URL('../../', import.meta.url)));
export const ECOSYSTEM = resolve(ROOT, 'ecosystem.config.cjs');
export const PM2_BIN = resolve(ROOT, 'node_modules/pm2/bin/pm2');
export const APPS = { scheduler: 'tradeloop-scheduler', worker: 'tradeloop-worker', dashboard: 'tradeloop-dashboard' } as const;

/**
 * Whether a PM2 daemon holds this state directory: asking PM2 otherwise would start one just to answer.
 * The pid file alone is not enough: after a reboot or a killed daemon it stays behind, naming a process that is gone.
 */
export function pm2DaemonRunning(env: NodeJS.ProcessEnv): boolean {
  let pid: number;
  try {
    pid = Number(readFileSync(join(env.PM2_HOME ?? resolve(ROOT, 'var/pm2'), 'pm2.pid'), 'utf8').trim());
  } catch {
    return false;
  }
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: alive, but another user's (PM2 run by someone else with this PM2_HOME).
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The process list of `pm2 jlist`: one JSON line, after any notices of PM2's own ("[PM2] Spawning PM2 daemon…"). */
export function parseJlist<T>(stdout: string): T[] | null {
  for (const line of stdout.split('\n').reverse()) {
    if (!line.trim().startsWith('[')) continue;
    try {
      return JSON.parse(line) as T[];
    } catch {
      // a notice such as "[PM2] …": keep looking
    }
  }
  return stdout.trim() === '' ? [] : null;
}

/** PM2 from the project's own dependency, with its state under ./var/pm2 unless PM2_HOME says otherwise. */
export function pm2(args: string[], env: NodeJS.ProcessEnv, inherit = false): { code: number; stdout: string; stderr: string } {
  const home = env.PM2_HOME ?? resolve(ROOT, 'var/pm2');
  mkdirSync(home, { recursive: true });
  mkdirSync(resolve(ROOT, 'logs'), { recursive: true });
  const r = spawnSync(process.execPath, [PM2_BIN, ...args], { cwd: ROOT, env: { ...env, PM2_HOME: home }, encoding: 'utf8', stdio: inherit ? 'inherit' : 'pipe' });
  return { code: r.status ?? 1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

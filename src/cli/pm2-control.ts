import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(fileURLToPath(new URL('../../', import.meta.url)));
export const ECOSYSTEM = resolve(ROOT, 'ecosystem.config.cjs');
export const PM2_BIN = resolve(ROOT, 'node_modules/pm2/bin/pm2');
export const APPS = { scheduler: 'tradeloop-scheduler', worker: 'tradeloop-worker', dashboard: 'tradeloop-dashboard' } as const;

/** PM2 from the project's own dependency, with its state under ./var/pm2 unless PM2_HOME says otherwise. */
export function pm2(args: string[], env: NodeJS.ProcessEnv, inherit = false): { code: number; stdout: string; stderr: string } {
  const home = env.PM2_HOME ?? resolve(ROOT, 'var/pm2');
  mkdirSync(home, { recursive: true });
  mkdirSync(resolve(ROOT, 'logs'), { recursive: true });
  const r = spawnSync(process.execPath, [PM2_BIN, ...args], { cwd: ROOT, env: { ...env, PM2_HOME: home }, encoding: 'utf8', stdio: inherit ? 'inherit' : 'pipe' });
  return { code: r.status ?? 1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

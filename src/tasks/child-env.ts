import type { Config } from '../core/index.ts';

/** What a cycle needs from the process environment besides our config (paths, locale, Node's own switches). */
const SYSTEM_VARIABLES = ['PATH', 'HOME', 'TMPDIR', 'TZ', 'LANG', 'LC_ALL', 'NODE_OPTIONS', 'NODE_EXTRA_CA_CERTS', 'NODE_ENV', 'SSL_CERT_FILE', 'SSL_CERT_DIR', 'HTTPS_PROXY', 'HTTP_PROXY', 'NO_PROXY', 'https_proxy', 'http_proxy', 'no_proxy'];

/** Config a cycle never uses: the dashboard's credentials stay with the dashboard, the history database's with the worker. */
const WITHHELD_CONFIG = new Set(['DASHBOARD_TOKEN', 'DASHBOARD_READ_TOKEN', 'DATABASE_URL']);

/**
 * The environment of a sandbox child, built from an allow-list: system variables, the worker's
 * effective config (minus the dashboard's tokens) and variables named in CYCLE_ENV_PASS (a custom
 * CYCLE_MODULE's own settings). Nothing else the worker inherited — other services' keys, cloud
 * credentials — reaches code that runs cycles.
 */
export function childEnv(config: Config, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  const passed = (base.CYCLE_ENV_PASS ?? '').split(',').map((n) => n.trim()).filter(Boolean);
  for (const name of [...SYSTEM_VARIABLES, ...passed]) {
    if (base[name] !== undefined && !WITHHELD_CONFIG.has(name)) env[name] = base[name];
  }
  for (const [name, value] of Object.entries(config)) {
    if (value === undefined || value === null || WITHHELD_CONFIG.has(name)) continue;
    env[name] = Array.isArray(value) ? value.join(',') : typeof value === 'boolean' ? (value ? '1' : '0') : String(value);
  }
  return env;
}

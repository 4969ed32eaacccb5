import type { Config } from '../core/index.ts';

/**
 * The environment of a sandbox child: the worker's own, overlaid with its effective config, so a worker
 * started with a config object (tests, the benchmark) gives its children the same settings.
 */
export function childEnv(config: Config, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base };
  for (const [name, value] of Object.entries(config)) {
    if (value === undefined || value === null) continue;
    env[name] = Array.isArray(value) ? value.join(',') : typeof value === 'boolean' ? (value ? '1' : '0') : String(value);
  }
  return env;
}

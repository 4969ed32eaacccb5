import { fileURLToPath } from 'node:url';
import { ConfigError, describeRedisUrl, loadConfig, loadDotEnv } from '../core/index.ts';
import { chooseRedis, RedisNotInstalledError } from './embedded-redis.ts';
import { startProcessTree } from './process-tree.ts';

const log = (msg: string) => process.stderr.write(`[tradeloop] ${msg}\n`);
const bin = (name: string) => fileURLToPath(new URL(`../../bin/${name}.mjs`, import.meta.url));

loadDotEnv();
try {
  loadConfig(); // fail here, once, with the readable message, rather than in three children
} catch (err) {
  if (err instanceof ConfigError) {
    log(err.message);
    process.exit(2);
  }
  throw err;
}

let choice;
try {
  choice = await chooseRedis({ env: process.env, dataDir: './var/redis', log });
} catch (err) {
  log(err instanceof RedisNotInstalledError ? err.message : `could not start Redis: ${(err as Error).message}`);
  process.exit(1);
}

const env = { ...process.env, REDIS_URL: choice.url, TRADELOOP_SUPERVISED: '1' };
const tree = startProcessTree(
  [
    { name: 'scheduler', script: bin('scheduler') },
    { name: 'worker', script: bin('worker') },
    { name: 'dashboard', script: bin('dashboard') },
  ],
  env,
  log,
);
log(`running scheduler, worker and dashboard on ${choice.embedded ? `private Redis port ${choice.embedded.port}` : describeRedisUrl(choice.url)}; Ctrl-C stops all`);

let stopping = false;
const shutdown = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  log(`${signal}: stopping (running cycles get up to 30 s to finish)`);
  await tree.stop(35_000);
  if (choice.embedded) {
    await choice.embedded.stop();
    log('private redis-server stopped');
  }
  process.exit(0);
};
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGHUP', () => void shutdown('SIGHUP'));

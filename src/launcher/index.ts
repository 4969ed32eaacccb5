/** The launcher room (`npm start`): the private Redis and the process tree. Its only door. */
export { chooseRedis, embeddedRedisUrl, RedisNotInstalledError, type EmbeddedRedis, type RedisChoice } from './embedded-redis.ts';
export { startProcessTree } from './process-tree.ts';

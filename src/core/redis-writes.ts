import type { Redis } from 'ioredis';
import { luaCommand } from './lua-command.ts';
import type { RedisWrite } from './redis-write.ts';
import { ScriptKeys, SEND_WRITE_LUA } from './script-keys.ts';

/** Lua: every write of ARGV[1] (command, key index, args), in order; a refused one ends the call with its error. */
const SEND_WRITES = `${SEND_WRITE_LUA}
for _, w in ipairs(cjson.decode(ARGV[1])) do send(redis.call, w) end
return 1`;

/**
 * Sends writes in one Lua call: one round trip, applied together (no other client's command runs in
 * between). A MULTI did the same, but ioredis builds each one by copying every script defined on the
 * connection (BullMQ's dozens where queues share it): that cost an API request more than the call.
 */
export async function sendWrites(redis: Redis, writes: RedisWrite[]): Promise<void> {
  if (!writes.length) return;
  const keys = new ScriptKeys();
  const encoded = JSON.stringify(writes.map((w) => keys.encode(w)));
  await luaCommand(redis, 'tlSendWrites', SEND_WRITES).tlSendWrites(keys.list.length, ...keys.list, encoded);
}

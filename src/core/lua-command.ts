import type { Redis } from 'ioredis';

/** A connection with named Lua commands (ioredis sends EVALSHA and falls back to EVAL after a restart or failover). */
export type WithLua<Names extends string> = Redis & { [N in Names]: (numKeys: number, ...args: string[]) => Promise<unknown> };

const defined = new WeakMap<Redis, Set<string>>();

/** Defines `lua` as command `name` on this connection once; pipelines made from it afterwards have it too. */
export function luaCommand<N extends string>(redis: Redis, name: N, lua: string): WithLua<N> {
  let names = defined.get(redis);
  if (!names) defined.set(redis, (names = new Set()));
  if (!names.has(name)) {
    redis.defineCommand(name, { lua });
    names.add(name);
  }
  return redis as WithLua<N>;
}

import type { RedisWrite } from './redis-write.ts';

/** A write as a Lua call receives it: the command, its key's index in KEYS, the arguments. */
export type EncodedWrite = [string, number, ...string[]];

/**
 * The keys one Lua call touches, declared in KEYS (as Redis Cluster requires) and named in the call's
 * JSON by their index, so a key used by several writes travels once.
 */
export class ScriptKeys {
  readonly list: string[] = [];
  private readonly index = new Map<string, number>();

  of(key: string): number {
    let i = this.index.get(key);
    if (i === undefined) {
      this.list.push(key);
      i = this.list.length;
      this.index.set(key, i);
    }
    return i;
  }

  encode(w: RedisWrite): EncodedWrite {
    const [command, key, ...args] = w;
    return [command, this.of(key), ...args];
  }
}

/** Lua: sends one encoded write with `call` (redis.call, or redis.pcall for a best-effort write). */
export const SEND_WRITE_LUA = `
local function send(call, w)
  return call(w[1], KEYS[w[2]], unpack(w, 3))
end`;

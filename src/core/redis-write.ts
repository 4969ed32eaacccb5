/**
 * One Redis write as data: the command, its key, its arguments. Code that records something returns
 * its writes instead of sending them, so a caller can send the writes of several records together
 * (one Lua call, which a job's start and end also use for their own reads and writes).
 */
export type RedisWrite = [command: string, key: string, ...args: string[]];

import { readdirSync, readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';

/** Linux's USER_HZ: /proc times are in these ticks (100 on every mainstream kernel). */
const TICKS_PER_S = 100;

/** utime, stime, cutime, cstime of a process, seconds (zeros once it is gone, and off Linux). */
function procTimes(pid: number | 'self'): [number, number, number, number] {
  try {
    // The command name (field 2) may hold spaces: fields are counted after its closing parenthesis.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return [f[11], f[12], f[13], f[14]].map((t) => Number(t) / TICKS_PER_S) as [number, number, number, number];
  } catch {
    return [0, 0, 0, 0];
  }
}

/**
 * CPU seconds used so far by this process (all its threads) and its children: the ones that ended
 * (counted into ours once reaped) and the live ones given by pid (a worker process with its sandbox
 * children, whose ended children count in the worker's own times). Differences of two readings are
 * what a leg cost, whichever children started or ended in between.
 */
export function processTreeCpuS(livePids: number[] = []): number {
  const sum = (t: number[]) => t.reduce((a, b) => a + b, 0);
  return sum(procTimes('self')) + livePids.reduce((total, pid) => total + sum(procTimes(pid)), 0);
}

/** A process and its live descendants (a worker with its sandbox children), from /proc (Linux). */
export function processTree(pid: number): number[] {
  const out = [pid];
  for (let i = 0; i < out.length; i++) {
    try {
      const tasks = readdirSync(`/proc/${out[i]}/task`);
      for (const t of tasks) out.push(...readFileSync(`/proc/${out[i]}/task/${t}/children`, 'utf8').split(' ').filter(Boolean).map(Number));
    } catch {
      // gone meanwhile: its times are in its parent's now
    }
  }
  return out;
}

/** CPU seconds the Redis server has used (user + system), from INFO. */
export async function redisCpuS(redis: Redis): Promise<number> {
  const info = await redis.info('cpu');
  const field = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? NaN);
  return field('used_cpu_user') + field('used_cpu_sys');
}

/** Measures a leg's CPU per job, microseconds: this process tree's (producer, worker, children) and Redis's. */
export async function cpuMeter(redis: Redis, livePids: () => Promise<number[]> | number[] = () => []) {
  const node0 = processTreeCpuS(await livePids());
  const redis0 = await redisCpuS(redis);
  return async (jobs: number) => ({
    node_cpu_us_per_job: ((processTreeCpuS(await livePids()) - node0) * 1e6) / jobs,
    redis_cpu_us_per_job: (((await redisCpuS(redis)) - redis0) * 1e6) / jobs,
  });
}

/** Lua script calls Redis has run so far (EVALSHA and EVAL: a script cannot call one, so each is one round trip). */
export async function redisScriptCalls(redis: Redis): Promise<number> {
  const info = await redis.info('commandstats');
  let calls = 0;
  for (const m of info.matchAll(/^cmdstat_(?:evalsha|eval|evalsha_ro|eval_ro):calls=(\d+)/gm)) calls += Number(m[1]);
  return calls;
}

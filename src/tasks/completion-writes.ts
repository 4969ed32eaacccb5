import { createRequire } from 'node:module';
import { createRedisBackend, isNotConnectionError, raw2NextJobData, type BackendFactory, type RedisQueueBackend } from 'bullmq';
import type { Redis } from 'ioredis';
import { luaCommand, type JobOutcome, type Logger } from '../core/index.ts';
import { ONCE_WRITES_LUA, type OnceWrites } from './once-writes.ts';
import { FETCH_START_LUA, type StartsOnFetch } from './start-on-fetch.ts';

/**
 * A completed job's end rides on BullMQ's own completion: one Lua call records our end (the outcome,
 * the attempt's end, the lease's release), then runs BullMQ's moveToFinished. The order is the one two
 * calls had: the end is on record before BullMQ completes the job, and stays on record when BullMQ
 * refuses (a lost lock), so the run that takes the job over reuses the analysis instead of redoing it.
 * One round trip instead of two. Likewise a fetch (moveToActive, or the completion fetching the next
 * job) takes the fetched job's start (start-on-fetch.ts). BullMQ lets a backend factory be injected
 * into its Worker; ours is its Redis backend with those two calls replaced.
 */
export interface HeldEnd {
  batch: OnceWrites;
  /** Retries the call the way a storage step is retried (a Redis refusing writes for a while). */
  retry: <T>(step: () => Promise<T>) => Promise<T>;
  /** After the call: what follows the record (the result file). */
  after: () => Promise<void>;
  /**
   * Another run's analysis was on record (nothing was written, the job is still active): records the
   * outcome the old way and answers what the job completes with instead.
   */
  conflict: (storedAnalysis: string) => Promise<JobOutcome>;
  logger: Logger;
}

interface BullmqScript {
  content: string;
  keys: number;
}

// BullMQ's own script, as the installed version defines it: ours wraps it rather than copying it, so
// its arguments stay those its own argument builder makes.
const bullmqScript = <N extends string>(file: string, name: N) => (createRequire(import.meta.url)(`bullmq/dist/cjs/scripts/${file}.js`) as Record<N, BullmqScript>)[name];
const bullmqFinish = bullmqScript('moveToFinished-14', 'moveToFinished');
const bullmqFetch = bullmqScript('moveToActive-11', 'moveToActive');

/** BullMQ's fetch of a job (moveToActive), with the fetched job's start (start-on-fetch.ts) as the answer's fifth element. */
const FETCH_SCRIPT = `${FETCH_START_LUA}
local function bullmqFetch()
${bullmqFetch.content}
end
local n = #ARGV
local P = {ARGV[n - 5], ARGV[n - 4], ARGV[n - 3], ARGV[n - 2], ARGV[n - 1], ARGV[n]}
local r = bullmqFetch()
if type(r) == 'table' and type(r[1]) == 'table' then r[5] = tradeloopStart(r[2], r[1], P) end
return r`;

/**
 * KEYS: BullMQ's, then ours; ARGV: BullMQ's, the next job's start P (start-on-fetch.ts), then our
 * spec, analysis and the analysis key's index in ours (0: none). Each part runs as a function with its
 * own KEYS and ARGV. Answers {'conflict', stored analysis} (nothing written), BullMQ's negative code
 * (ours written), or {BullMQ's answer (the next job with its start), 1 when the record was new}.
 */
const SCRIPT = `${FETCH_START_LUA}
local function tradeloopEnd(KEYS, ARGV)
${ONCE_WRITES_LUA}
end
local function bullmqFinish()
${bullmqFinish.content}
end
local ours = {}
for i = ${bullmqFinish.keys} + 1, #KEYS do ours[#ours + 1] = KEYS[i] end
local args = {ARGV[#ARGV - 2], ARGV[#ARGV - 1]}
local analysisKey = tonumber(ARGV[#ARGV])
if analysisKey > 0 then
  local stored = redis.call('GET', ours[analysisKey])
  if stored and stored ~= args[2] then return {'conflict', stored} end
end
local answer = tradeloopEnd(ours, args)
local done = bullmqFinish()
if type(done) == 'number' and done < 0 then return done end
if type(done) == 'table' and type(done[1]) == 'table' then
  local m = #ARGV - 3
  done[5] = tradeloopStart(done[2], done[1], {ARGV[m - 5], ARGV[m - 4], ARGV[m - 3], ARGV[m - 2], ARGV[m - 1], ARGV[m]})
end
return {done, answer[2]}`;

type Answer = number | ['conflict', string] | [unknown, number];

export class CompletionWrites {
  private readonly held = new Map<string, HeldEnd>();

  constructor(
    private readonly redis: Redis,
    /** Where the starts taken with each fetch are kept for the processor (none: jobs are fetched as BullMQ does). */
    readonly starts?: StartsOnFetch,
  ) {}

  private static id(jobId: string, token: string): string {
    return `${jobId}:${token}`;
  }

  /** Leaves a completed job's end to its completion (the processor then returns its outcome). */
  hold(jobId: string, token: string, end: HeldEnd): void {
    this.held.set(CompletionWrites.id(jobId, token), end);
  }

  /** Ends held and not yet sent. */
  get size(): number {
    return this.held.size;
  }

  /**
   * Sends, on their own, ends whose completion never came (a worker closing skips it): the outcome is
   * on record, and the job, left active, is recovered and completed without being analysed again.
   */
  async flush(): Promise<number> {
    const ends = [...this.held.values()];
    this.held.clear();
    for (const end of ends) {
      try {
        const answer = await end.retry(() => end.batch.send(this.redis));
        if (answer.storedAnalysis === null) await end.after();
      } catch (err) {
        end.logger.warn({ err: (err as Error).message }, 'the end of a completed job could not be recorded at shutdown');
      }
    }
    return ends.length;
  }

  /** BullMQ's Redis backend, completing the jobs whose ends are held here in one call with them. */
  backend(): BackendFactory<RedisQueueBackend> {
    return (name, opts, flags) => {
      const backend = createRedisBackend(name, opts, flags);
      // A BullMQ whose completion takes other keys would have them bound wrongly: refuse to start.
      if (backend.moveToFinishedKeys.length !== bullmqFinish.keys) {
        throw new Error(`BullMQ's moveToFinished takes ${backend.moveToFinishedKeys.length} keys here, its script ${bullmqFinish.keys}: this BullMQ version is not supported`);
      }
      const complete = backend.moveToCompleted.bind(backend);
      const starts = this.starts;
      if (starts) {
        const exec = backend.execCommand.bind(backend);
        backend.execCommand = (client, command, args: unknown[]) => (command === 'moveToActive' ? this.fetch(starts, backend, args) : exec(client, command, args));
      }
      backend.moveToCompleted = async (job, returnValue, removeOnComplete, token, fetchNext) => {
        const key = CompletionWrites.id(String(job.id), token);
        const end = this.held.get(key);
        if (!end) return complete(job, returnValue, removeOnComplete, token, fetchNext);
        try {
          const out = await this.completeWith(backend, end, job, JSON.stringify(returnValue), removeOnComplete, token, fetchNext);
          this.held.delete(key);
          if ('conflict' in out) return complete(job, (await end.conflict(out.conflict)) as typeof returnValue, removeOnComplete, token, fetchNext);
          await end.after().catch((err: Error) => end.logger.warn({ err: err.message }, 'result file not queued'));
          return out;
        } catch (err) {
          // BullMQ retries a completion that lost its connection: the end must still ride on it then.
          if (isNotConnectionError(err as Error)) this.held.delete(key);
          throw err;
        }
      };
      return backend;
    };
  }

  private async fetch(starts: StartsOnFetch, backend: RedisQueueBackend, args: unknown[]): Promise<unknown> {
    const call = luaCommand(this.redis, 'tlFetchJob', FETCH_SCRIPT) as unknown as Record<'tlFetchJob', (n: number, ...a: unknown[]) => Promise<unknown>>;
    const raw = await call.tlFetchJob(bullmqFetch.keys, ...args.map((a) => (a === undefined ? '' : a)), ...starts.args(backend.toKey('')));
    starts.keep(raw);
    return raw;
  }

  private async completeWith(
    backend: RedisQueueBackend,
    end: HeldEnd,
    job: Parameters<RedisQueueBackend['moveToCompleted']>[0],
    returnValue: string,
    removeOnComplete: Parameters<RedisQueueBackend['moveToCompleted']>[2],
    token: string,
    fetchNext: boolean,
  ): Promise<{ result: unknown[]; finishedOn: number } | { conflict: string }> {
    const args = backend.moveToCompletedArgs(job, returnValue, removeOnComplete, token, fetchNext).map((a) => (a === undefined ? '' : a));
    const bullKeys = args.slice(0, bullmqFinish.keys) as string[];
    const bullArgs = args.slice(bullmqFinish.keys);
    const ours = end.batch.encoded();
    const call = luaCommand(this.redis, 'tlCompleteJob', SCRIPT) as unknown as Record<'tlCompleteJob', (n: number, ...a: unknown[]) => Promise<Answer>>;
    const next = this.starts?.args(backend.toKey('')) ?? ['', '', '', '', '0', '0'];
    const answer = await end.retry(() => call.tlCompleteJob(bullKeys.length + ours.keys.length, ...bullKeys, ...ours.keys, ...bullArgs, ...next, ...ours.args, String(ours.analysisKeyIndex ?? 0)));
    if (typeof answer === 'number') {
      // Our end is on record; BullMQ refused the completion (the job is another worker's now).
      await end.after().catch(() => undefined);
      throw backend.finishedErrors({ code: answer, jobId: String(job.id), command: 'moveToFinished', state: 'active' });
    }
    if (answer[0] === 'conflict') return { conflict: String(answer[1]) };
    this.starts?.keep(answer[0]);
    // As BullMQ's own completion answers: the next job's data when it fetched one.
    return { result: raw2NextJobData(answer[0] as unknown[]), finishedOn: Number(bullArgs[1]) };
  }
}

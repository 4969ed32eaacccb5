import { fork, type ChildProcess } from 'node:child_process';
import type { CycleResult, Logger } from '../core/index.ts';
import { LOADER_CHILD_ENTRY } from './child-bundle.ts';
import { CycleRunError, HARD_LIMIT, SOFT_LIMIT, type CycleRunner, type CycleRunRequest } from './cycle-runner.ts';
import type { FromChild, ToChild } from './sandbox-messages.ts';

export interface SandboxOptions {
  maxJobsPerChild: number;
  /** A child whose RSS after a cycle is above this is replaced (Celery's max_memory_per_child); 0: no cap. */
  maxChildMemoryMb?: number;
  env: NodeJS.ProcessEnv;
  logger: Logger;
  /** The file children are forked from: the compiled bundle (child-bundle.ts), else the loader entry. */
  entry?: string;
}

interface Child {
  process: ChildProcess;
  jobs: number;
  ready: Promise<void>;
  /** Last reported resident memory, bytes. */
  rss: number;
}

/**
 * Runs each cycle in a child process (Celery's prefork pool): the soft limit asks the child to abort,
 * the hard limit kills it, and a child is replaced after `maxJobsPerChild` cycles to bound memory.
 * BullMQ's own sandbox offers neither a per-job kill nor recycling, hence this small pool.
 */
export function createSandboxRunner(opts: SandboxOptions): CycleRunner {
  const entry = opts.entry ?? LOADER_CHILD_ENTRY;
  const maxRss = (opts.maxChildMemoryMb ?? 0) * 1024 * 1024;
  const idle: Child[] = [];
  const all = new Set<Child>();
  let closed = false;

  const spawnChild = (): Child => {
    const proc = fork(entry, [], { env: opts.env, execArgv: ['--enable-source-maps'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'json' });
    // A send to a child that just died is reported as an 'error' event (ERR_IPC_CHANNEL_CLOSED); unheard,
    // it would kill the worker. The exit handler settles whatever the child was running.
    proc.on('error', (err) => opts.logger.debug({ err, pid: proc.pid }, 'sandbox child channel error'));
    const ready = new Promise<void>((resolve, reject) => {
      const onMessage = (m: FromChild) => {
        if (m.type === 'ready') {
          proc.off('exit', onExit);
          resolve();
        }
      };
      const onExit = (code: number | null) => reject(new Error(`sandbox child exited during start-up (code ${code})`));
      proc.once('message', onMessage);
      proc.once('exit', onExit);
    });
    const child: Child = { process: proc, jobs: 0, ready, rss: 0 };
    // A start-up failure surfaces in the run that awaits it; a spare nobody awaits must not crash the worker.
    ready.catch(() => undefined);
    all.add(child);
    proc.once('exit', () => {
      all.delete(child);
      const i = idle.indexOf(child);
      if (i >= 0) idle.splice(i, 1);
    });
    return child;
  };

  /**
   * A child about to take its last job gets its replacement started now, so the replacement is warm
   * (Node and the cycle loaded) when the retiring one leaves, and no job waits for a start-up.
   */
  const warmReplacementFor = (child: Child) => {
    if (closed || child.jobs < opts.maxJobsPerChild) return;
    idle.unshift(spawnChild());
  };

  const reusable = (child: Child) =>
    !closed && child.jobs < opts.maxJobsPerChild && child.process.exitCode === null && (maxRss === 0 || child.rss <= maxRss);

  const retire = (child: Child) => {
    all.delete(child);
    if (child.process.exitCode === null && child.process.signalCode === null) child.process.kill('SIGTERM');
  };

  return {
    mode: 'sandbox',
    childPids: () => [...all].map((c) => c.process.pid!).filter(Boolean),
    async close() {
      closed = true;
      for (const child of [...all]) retire(child);
    },
    async run(req: CycleRunRequest): Promise<CycleResult> {
      if (closed) throw new Error('worker is shutting down');
      const child = idle.pop() ?? spawnChild();
      await child.ready;
      child.jobs++;
      warmReplacementFor(child);
      const proc = child.process;
      let settled = false;
      return new Promise<CycleResult>((resolve, reject) => {
        const timers: NodeJS.Timeout[] = [];
        const finish = (err: Error | null, result?: CycleResult, keep = true) => {
          if (settled) return;
          settled = true;
          timers.forEach(clearTimeout);
          proc.off('message', onMessage);
          proc.off('exit', onExit);
          req.signal.removeEventListener('abort', onAbort);
          if (keep && reusable(child)) idle.push(child);
          else {
            if (keep && maxRss > 0 && child.rss > maxRss) opts.logger.info({ jobId: req.jobId, pid: proc.pid, rssMb: Math.round(child.rss / 2 ** 20) }, 'sandbox child over its memory cap: replaced');
            retire(child);
          }
          if (err) reject(err);
          else resolve(result!);
        };
        const send = (m: ToChild) => {
          if (!proc.connected) return;
          try {
            proc.send(m, (err) => {
              if (err) opts.logger.debug({ err, jobId: req.jobId, pid: proc.pid }, 'sandbox child gone before a message reached it');
            });
          } catch {
            // the child is gone; its exit handler settles the job
          }
        };
        const progress = coalescedProgress(req.onProgress);
        const onMessage = (m: FromChild) => {
          if ('rss' in m && m.rss) child.rss = m.rss;
          if (m.type === 'progress') progress(m.stage, m.percent);
          else if (m.type === 'done') finish(null, m.result);
          else if (m.type === 'error') {
            const name = m.name === 'CycleAbortedError' && m.message === SOFT_LIMIT ? 'SoftTimeLimit' : m.name;
            finish(Object.assign(new CycleRunError(m.message, name), m.stack ? { stack: m.stack } : {}));
          }
        };
        const onExit = (code: number | null, signal: string | null) =>
          finish(new CycleRunError(`sandbox child exited unexpectedly (${signal ?? `code ${code}`})`, 'SandboxCrash'), undefined, false);
        const onAbort = () => send({ type: 'abort', reason: String(req.signal.reason ?? 'aborted') });
        proc.on('message', onMessage);
        proc.once('exit', onExit);
        req.signal.addEventListener('abort', onAbort, { once: true });
        // A cancel that came before the cycle started would never fire the listener.
        if (req.signal.aborted) onAbort();
        timers.push(setTimeout(() => send({ type: 'abort', reason: SOFT_LIMIT }), req.softTimeLimitMs));
        timers.push(
          setTimeout(() => {
            opts.logger.warn({ jobId: req.jobId, pid: proc.pid }, 'hard time limit: killing the sandbox child');
            proc.kill('SIGKILL');
            finish(new CycleRunError(HARD_LIMIT, 'HardTimeLimit'), undefined, false);
          }, req.hardTimeLimitMs),
        );
        send({ type: 'run', data: req.data, jobId: req.jobId, attempt: req.attempt, queue: req.queue });
        // Cancelled while the child was starting: the abort must follow the run, or the child drops it.
        if (req.signal.aborted) onAbort();
      });
    },
  };
}

/**
 * Progress reaches Redis one write at a time: while one is in flight, later reports replace each other
 * and only the newest is written next (a burst of stages costs two writes, not one per stage).
 */
function coalescedProgress(write: CycleRunRequest['onProgress']): (stage: Parameters<CycleRunRequest['onProgress']>[0], percent: number) => void {
  let inFlight = false;
  let pending: [Parameters<CycleRunRequest['onProgress']>[0], number] | null = null;
  const next = (): void => {
    if (!pending) {
      inFlight = false;
      return;
    }
    const [stage, percent] = pending;
    pending = null;
    inFlight = true;
    void write(stage, percent).catch(() => undefined).finally(next);
  };
  return (stage, percent) => {
    pending = [stage, percent];
    if (!inFlight) next();
  };
}

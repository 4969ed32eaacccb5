import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { CycleResult, Logger } from '../core/index.ts';
import { CycleRunError, HARD_LIMIT, SOFT_LIMIT, type CycleRunner, type CycleRunRequest } from './cycle-runner.ts';
import type { FromChild, ToChild } from './sandbox-messages.ts';

const CHILD_ENTRY = fileURLToPath(new URL('../../bin/cycle-child.mjs', import.meta.url));

interface Child {
  process: ChildProcess;
  jobs: number;
  ready: Promise<void>;
}

/**
 * Runs each cycle in a child process (Celery's prefork pool): the soft limit asks the child to abort,
 * the hard limit kills it, and a child is replaced after `maxJobsPerChild` cycles to bound memory.
 * BullMQ's own sandbox offers neither a per-job kill nor recycling, hence this small pool.
 */
export function createSandboxRunner(opts: { maxJobsPerChild: number; env: NodeJS.ProcessEnv; logger: Logger }): CycleRunner {
  const idle: Child[] = [];
  const all = new Set<Child>();
  let closed = false;

  const spawnChild = (): Child => {
    const proc = fork(CHILD_ENTRY, [], { env: opts.env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'json' });
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
    const child: Child = { process: proc, jobs: 0, ready };
    all.add(child);
    proc.once('exit', () => {
      all.delete(child);
      const i = idle.indexOf(child);
      if (i >= 0) idle.splice(i, 1);
    });
    return child;
  };

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
      const proc = child.process;
      let settled = false;
      return new Promise<CycleResult>((resolve, reject) => {
        const timers: NodeJS.Timeout[] = [];
        const finish = (err: Error | null, result?: CycleResult, reusable = true) => {
          if (settled) return;
          settled = true;
          timers.forEach(clearTimeout);
          proc.off('message', onMessage);
          proc.off('exit', onExit);
          req.signal.removeEventListener('abort', onAbort);
          if (reusable && !closed && child.jobs < opts.maxJobsPerChild && proc.exitCode === null) idle.push(child);
          else retire(child);
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
        const onMessage = (m: FromChild) => {
          if (m.type === 'progress') void req.onProgress(m.stage, m.percent).catch(() => undefined);
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

import { AsyncLocalStorage } from 'node:async_hooks';
import type { Child, ChildPool, Processor } from 'bullmq';
import type { CycleResult, Logger } from '../core/index.ts';
import { CycleRunError, HARD_LIMIT, SOFT_LIMIT, type CycleRunner, type CycleRunRequest } from './cycle-runner.ts';

/** Which child a running job got, found while BullMQ's sandbox retains one inside our async context. */
interface Slot {
  child: Child | null;
  killed: boolean;
}

/**
 * Cycles in BullMQ's sandboxed processors (child processes), with what Celery's prefork pool adds:
 * the soft limit aborts the job's signal (relayed by BullMQ to the child), the hard limit kills that
 * job's child, and a child is retired after `maxJobsPerChild` jobs to bound memory growth. BullMQ's
 * pool has neither a per-job kill nor recycling, so both hook into its retain/release.
 */
export function createSandboxRunner(sandboxed: Processor, pool: ChildPool, opts: { maxJobsPerChild: number; logger: Logger }): CycleRunner {
  const current = new AsyncLocalStorage<Slot>();
  const children = new Set<Child>();
  const uses = new WeakMap<Child, number>();

  const retain = pool.retain.bind(pool);
  pool.retain = async (processFile: string) => {
    const child = await retain(processFile);
    if (!children.has(child) && child.exitCode === null && child.signalCode === null) {
      children.add(child);
      child.once('exit', () => children.delete(child));
    }
    const slot = current.getStore();
    if (slot) {
      slot.child = child;
      // The hard limit passed while the child was still starting.
      if (slot.killed) void pool.kill(child, 'SIGKILL').catch(() => undefined);
    }
    return child;
  };
  const release = pool.release.bind(pool);
  pool.release = (child: Child) => {
    const n = (uses.get(child) ?? 0) + 1;
    uses.set(child, n);
    if (n < opts.maxJobsPerChild) return release(child);
    // Recycled: SIGTERM lets BullMQ's child finish (it is idle now) and exit; the next job forks a fresh one.
    children.delete(child);
    void pool.kill(child, 'SIGTERM').catch(() => undefined);
  };

  return {
    mode: 'sandbox',
    childPids: () => [...children].map((c) => c.pid),
    async close() {
      await Promise.allSettled([...children].map((c) => pool.kill(c, 'SIGKILL')));
    },
    async run(req: CycleRunRequest): Promise<CycleResult> {
      const controller = new AbortController();
      const forward = () => controller.abort(req.signal.reason);
      if (req.signal.aborted) forward();
      else req.signal.addEventListener('abort', forward, { once: true });
      const slot: Slot = { child: null, killed: false };
      const timers: NodeJS.Timeout[] = [];
      try {
        return await new Promise<CycleResult>((resolve, reject) => {
          timers.push(setTimeout(() => controller.abort(SOFT_LIMIT), req.softTimeLimitMs));
          timers.push(
            setTimeout(() => {
              slot.killed = true;
              opts.logger.warn({ jobId: req.job.id, pid: slot.child?.pid }, 'hard time limit: killing the sandbox child');
              if (slot.child) void pool.kill(slot.child, 'SIGKILL').catch(() => undefined);
              reject(new CycleRunError(HARD_LIMIT, 'HardTimeLimit'));
            }, req.hardTimeLimitMs),
          );
          current
            .run(slot, () => sandboxed(req.job, req.token, controller.signal) as Promise<CycleResult>)
            .then(resolve, (err: unknown) => reject(fromSandbox(err)));
        });
      } finally {
        timers.forEach(clearTimeout);
        req.signal.removeEventListener('abort', forward);
      }
    },
  };
}

/** BullMQ reports a child that died mid-job as "Unexpected exit code: <code> signal: <signal>". */
function fromSandbox(err: unknown): Error {
  const e = err instanceof Error ? err : new Error(String(err));
  const exit = /^Unexpected exit code: (\S+) signal: (\S+)/.exec(e.message);
  if (exit) {
    const how = exit[2] !== 'null' ? exit[2] : `code ${exit[1]}`;
    return new CycleRunError(`sandbox child exited unexpectedly (${how})`, 'SandboxCrash');
  }
  return e;
}

import { spawn, type ChildProcess } from 'node:child_process';

export interface ChildSpec {
  name: string;
  script: string;
  args?: string[];
}

export interface ProcessTree {
  /** Sends SIGTERM to every child once and waits for all to exit (SIGKILL after `deadlineMs`). */
  stop(deadlineMs: number): Promise<void>;
}

/**
 * Runs the product's processes as children, restarting one that dies with a growing backoff.
 * Children get their own process group (so a terminal Ctrl-C reaches them once, from us) and an IPC
 * channel whose disconnect tells them to shut down if we die without warning.
 */
export function startProcessTree(specs: ChildSpec[], env: NodeJS.ProcessEnv, log: (msg: string) => void): ProcessTree {
  let stopping = false;
  const running = new Map<string, ChildProcess>();

  const launch = (spec: ChildSpec, failures: number) => {
    const startedAt = Date.now();
    const child = spawn(process.execPath, [spec.script, ...(spec.args ?? [])], {
      env,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      detached: true,
    });
    running.set(spec.name, child);
    child.once('exit', (code, signal) => {
      running.delete(spec.name);
      if (stopping) return;
      const quick = Date.now() - startedAt < 30_000;
      const nextFailures = quick ? failures + 1 : 0;
      const delay = Math.min(30_000, 1_000 * 2 ** Math.min(nextFailures, 5));
      log(`${spec.name} exited (${signal ?? `code ${code}`}); restarting in ${delay / 1000}s`);
      setTimeout(() => !stopping && launch(spec, nextFailures), delay).unref();
    });
  };
  for (const spec of specs) launch(spec, 0);

  return {
    async stop(deadlineMs) {
      stopping = true;
      const children = [...running.values()];
      await Promise.all(
        children.map(
          (child) =>
            new Promise<void>((done) => {
              if (child.exitCode !== null || child.signalCode !== null) return done();
              const timer = setTimeout(() => child.kill('SIGKILL'), deadlineMs);
              child.once('exit', () => {
                clearTimeout(timer);
                done();
              });
              child.kill('SIGTERM');
            }),
        ),
      );
    },
  };
}

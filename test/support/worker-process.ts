import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { waitFor } from './redis-test-env.ts';

export const TEST_CYCLE = resolve('test/support/test-cycle.ts');

export interface WorkerProcess {
  proc: ChildProcess;
  pid: number;
  logs: Array<Record<string, unknown>>;
  exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts a real worker process (`bin/worker.mjs`) and waits until it serves its queues. */
export async function spawnWorker(env: Record<string, string>, args: string[] = []): Promise<WorkerProcess> {
  const proc = spawn(process.execPath, ['bin/worker.mjs', ...args], {
    env: { ...process.env, LOG_FORMAT: 'json', LOG_LEVEL: 'info', CYCLE_MODULE: TEST_CYCLE, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Array<Record<string, unknown>> = [];
  let buffer = '';
  proc.stdout!.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    const lines = buffer.split('\n');
    buffer = lines.pop()!;
    for (const line of lines) {
      try {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // not JSON
      }
    }
  });
  let stderr = '';
  proc.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  await waitFor(() => logs.some((l) => l.msg === 'worker started') || proc.exitCode !== null, 15_000);
  if (proc.exitCode !== null) throw new Error(`worker exited at start: ${stderr}`);
  return {
    proc,
    pid: proc.pid!,
    logs,
    exited,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      return exited;
    },
  };
}

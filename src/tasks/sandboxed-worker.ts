import { fileURLToPath } from 'node:url';
import { Worker, type ChildPool, type Processor, type WorkerOptions } from 'bullmq';

/** The processor file BullMQ's sandbox children load: registers tsx, then imports sandbox-processor.ts. */
export const SANDBOX_PROCESSOR_FILE = fileURLToPath(new URL('./sandbox-processor.mjs', import.meta.url));

/**
 * A BullMQ Worker with a sandboxed processor (a file path → child processes) whose job function is
 * wrapped by `wrap`: admission, time limits and recording stay in the worker process, only the cycle
 * runs in the child. `createSandbox` is BullMQ's documented extension point for this.
 */
export function createSandboxedWorker(
  queue: string,
  opts: WorkerOptions,
  wrap: (sandboxed: Processor, pool: ChildPool) => Processor,
): Worker {
  class SandboxedCycleWorker extends Worker {
    protected override createSandbox(processor: Parameters<Worker['createSandbox']>[0]): void {
      super.createSandbox(processor);
      // BullMQ keeps its child pool private; the wrapper needs it for per-job kills and recycling.
      const pool = (this as unknown as { childPool: ChildPool }).childPool;
      this.processFn = wrap(this.processFn, pool);
    }
  }
  return new SandboxedCycleWorker(queue, SANDBOX_PROCESSOR_FILE, opts);
}

import { readFileSync, watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { basename, dirname, resolve } from 'node:path';

/**
 * Calls `onChange` when the schedule file's content changes. Watches the directory (editors replace
 * files, which a file watch would miss) with a debounce, and also polls the content hash, since some
 * file systems (network mounts, containers) deliver no events.
 *
 * The baseline hash is read synchronously here, so a write that lands right after the watcher is
 * created is always seen as a change; create the watcher before the first load so that nothing falls
 * between the load and the baseline (an async baseline once swallowed such a write for good).
 */
export function watchScheduleFile(path: string, onChange: () => void, opts: { debounceMs?: number; pollMs?: number } = {}): { close(): void } {
  const file = resolve(path);
  const debounceMs = opts.debounceMs ?? 200;
  let timer: NodeJS.Timeout | null = null;
  let closed = false;

  const digest = (data: Buffer | null) => (data ? createHash('sha256').update(data).digest('hex') : 'missing');
  const readSync = () => {
    try {
      return readFileSync(file);
    } catch {
      return null;
    }
  };
  let lastHash = digest(readSync());
  // Checks run one at a time, so a slow read can never put an older hash back as the baseline.
  let checking: Promise<void> = Promise.resolve();
  const check = () => {
    checking = checking.then(async () => {
      const hash = digest(await readFile(file).catch(() => null));
      if (closed || hash === lastHash) return;
      lastHash = hash;
      onChange();
    });
    return checking;
  };
  const schedule = () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => void check(), debounceMs);
  };

  let watcher: FSWatcher | null = null;
  try {
    watcher = watch(dirname(file), (_event, name) => {
      if (!name || name.toString() === basename(file)) schedule();
    });
    watcher.on('error', () => {});
  } catch {
    watcher = null; // polling still covers it
  }
  const poll = setInterval(() => void check(), opts.pollMs ?? 1_000);
  poll.unref();
  return {
    close() {
      closed = true;
      watcher?.close();
      clearInterval(poll);
      if (timer) clearTimeout(timer);
    },
  };
}

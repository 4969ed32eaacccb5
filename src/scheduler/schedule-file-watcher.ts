import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { basename, dirname, resolve } from 'node:path';

/**
 * Calls `onChange` when the schedule file's content changes. Watches the directory (editors replace
 * files, which a file watch would miss) with a debounce, and also polls the content hash, since some
 * file systems (network mounts, containers) deliver no events.
 */
export function watchScheduleFile(path: string, onChange: () => void, opts: { debounceMs?: number; pollMs?: number } = {}): { close(): void } {
  const file = resolve(path);
  const debounceMs = opts.debounceMs ?? 200;
  let lastHash: string | null = null;
  let timer: NodeJS.Timeout | null = null;
  let closed = false;

  const hashNow = async () => {
    try {
      return createHash('sha256').update(await readFile(file)).digest('hex');
    } catch {
      return 'missing';
    }
  };
  const check = async () => {
    const hash = await hashNow();
    if (closed || hash === lastHash) return;
    const first = lastHash === null;
    lastHash = hash;
    if (!first) onChange();
  };
  const schedule = () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => void check(), debounceMs);
  };
  void check();

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

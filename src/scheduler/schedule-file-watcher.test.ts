import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { watchScheduleFile } from './schedule-file-watcher.ts';

const waitUntil = async (check: () => boolean, ms: number) => {
  const end = Date.now() + ms;
  while (Date.now() < end && !check()) await new Promise((r) => setTimeout(r, 20));
  return check();
};

describe('schedule file watcher', () => {
  it('sees a write made right after it was created (the baseline is the content at creation)', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'tl-watch-')), 'schedules.yaml');
    writeFileSync(file, 'a: 1\n');
    let changes = 0;
    const w = watchScheduleFile(file, () => changes++, { debounceMs: 20, pollMs: 100 });
    // Synchronous write in the same tick: an async baseline read would take this content as the baseline.
    writeFileSync(file, 'a: 2\n');
    try {
      expect(await waitUntil(() => changes >= 1, 3_000)).toBe(true);
      // The same content again is not a change.
      writeFileSync(file, 'a: 2\n');
      await new Promise((r) => setTimeout(r, 400));
      expect(changes).toBe(1);
    } finally {
      w.close();
    }
  });

  it('reports nothing while the content stays the same', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'tl-watch-')), 'schedules.yaml');
    writeFileSync(file, 'a: 1\n');
    let changes = 0;
    const w = watchScheduleFile(file, () => changes++, { debounceMs: 20, pollMs: 50 });
    writeFileSync(file, 'a: 1\n');
    await new Promise((r) => setTimeout(r, 400));
    w.close();
    expect(changes).toBe(0);
  });
});

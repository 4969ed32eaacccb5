import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const knownFolders = new Set<string>();
import type { CycleResult } from '../core/index.ts';

/**
 * Writes `<dir>/<TICKER>/<YYYY-MM-DD>/<job_id>.json` atomically (temp file + rename), so a retried
 * or recovered cycle overwrites its own file instead of leaving two results.
 */
export async function writeResultFile(dir: string, jobId: string, result: CycleResult): Promise<string> {
  const folder = join(dir, safeSegment(result.ticker), safeSegment(result.date));
  if (!knownFolders.has(folder)) {
    await mkdir(folder, { recursive: true });
    // Bounded: one entry per ticker and day this process has written.
    if (knownFolders.size > 10_000) knownFolders.clear();
    knownFolders.add(folder);
  }
  const path = join(folder, `${safeSegment(jobId)}.json`);
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify({ job_id: jobId, ...result }, null, 2));
  await rename(tmp, path);
  return path;
}

function safeSegment(s: string): string {
  return s.replace(/[^A-Za-z0-9._-]/g, '_');
}

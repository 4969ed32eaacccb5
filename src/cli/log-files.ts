import { closeSync, existsSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import type { CliIO } from './cli-command.ts';
import { APPS, ECOSYSTEM, ROOT } from './pm2-control.ts';

export interface LogFile {
  path: string;
  /** `err` lines go to stderr, as `pm2 logs --raw` prints them. */
  kind: 'out' | 'err';
}

/** The log files ecosystem.config.cjs gives the named process groups (all of them when none is named). */
export function ecosystemLogFiles(groups: Array<keyof typeof APPS>): LogFile[] {
  const eco = createRequire(import.meta.url)(ECOSYSTEM) as { apps: Array<{ name: string; out_file?: string; error_file?: string }> };
  const names = new Set(groups.map((g) => APPS[g]));
  return eco.apps
    .filter((app) => names.has(app.name as (typeof APPS)[keyof typeof APPS]))
    .flatMap((app) => [
      ...(app.out_file ? [{ path: resolve(ROOT, app.out_file), kind: 'out' as const }] : []),
      ...(app.error_file ? [{ path: resolve(ROOT, app.error_file), kind: 'err' as const }] : []),
    ]);
}

const CHUNK = 64 * 1024;

/** The last `n` lines of a file, read from its end (a log file may be large). */
export function tailLines(path: string, n: number): string[] {
  const fd = openSync(path, 'r');
  try {
    let pos = fstatSync(fd).size;
    const chunks: Buffer[] = [];
    let newlines = 0;
    while (pos > 0 && newlines <= n) {
      const len = Math.min(CHUNK, pos);
      pos -= len;
      const buf = Buffer.alloc(len);
      readSync(fd, buf, 0, len, pos);
      chunks.unshift(buf);
      for (const byte of buf) if (byte === 0x0a) newlines++;
    }
    // Decoded once whole: a chunk boundary may split a multi-byte character.
    const lines = Buffer.concat(chunks).toString('utf8').split('\n');
    if (lines.at(-1) === '') lines.pop();
    return lines.slice(-n);
  } finally {
    closeSync(fd);
  }
}

/**
 * Prints the last `n` lines of each file that exists, oldest-written file first, in the layout of
 * `pm2 logs --raw --nostream` (a "<file> last N lines:" header, then the lines).
 */
export function printLogTails(files: LogFile[], n: number, io: Pick<CliIO, 'stdout' | 'stderr'>): void {
  const present = files.filter((f) => existsSync(f.path)).sort((a, b) => statSync(a.path).mtimeMs - statSync(b.path).mtimeMs);
  for (const file of present) {
    io.stdout(`${file.path} last ${n} lines:\n`);
    const lines = tailLines(file.path, n);
    if (lines.length) (file.kind === 'err' ? io.stderr : io.stdout)(`${lines.join('\n')}\n`);
  }
}

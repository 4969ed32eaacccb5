import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(fileURLToPath(new URL('../../', import.meta.url)));
const CHILD_SOURCE = join(ROOT, 'src/tasks/sandbox-child.ts');
/** The TypeScript-loader entry, used when compiling is not possible. */
export const LOADER_CHILD_ENTRY = join(ROOT, 'bin/cycle-child.mjs');

export interface ChildBundle {
  /** The file a sandbox child is forked from. */
  entry: string;
  /** CYCLE_MODULE as the child must load it (a compiled copy when it was TypeScript). */
  cycleModule?: string;
  compiled: boolean;
}

const isTypeScript = (path: string) => ['.ts', '.mts', '.cts'].includes(extname(path));

/**
 * Compiles the sandbox child (and a TypeScript CYCLE_MODULE) to plain ES modules once per worker start,
 * so each child starts on Node alone instead of a TypeScript loader (~1 s → ~0.1 s per child).
 * Output goes to `var/sandbox/<content hash>/`: workers started together share one directory, an edit of
 * the sources gives a new one, and a half-written directory is never seen (written aside, then renamed).
 * Packages stay external and resolve from the project's node_modules; the built-in cycle stays a
 * dynamically imported chunk, so a child running CYCLE_MODULE never loads the agents. Without esbuild,
 * the loader entry.
 */
export function buildChildBundle(cycleModule: string | undefined, outRoot = join(ROOT, 'var/sandbox')): Promise<ChildBundle> {
  // Once per process and cycle module: several workers started by one process share the build.
  const key = `${outRoot}\u0000${cycleModule ?? ''}`;
  let build = builds.get(key);
  if (!build) {
    inFlight++;
    build = compile(cycleModule, outRoot).finally(async () => {
      // esbuild keeps a service process for further builds: stopped once no build is running.
      if (--inFlight === 0) await import('esbuild').then((e) => e.stop()).catch(() => undefined);
    });
    builds.set(key, build);
  }
  return build;
}

const builds = new Map<string, Promise<ChildBundle>>();
let inFlight = 0;

async function compile(cycleModule: string | undefined, outRoot: string): Promise<ChildBundle> {
  const cycle = cycleModule ? resolve(cycleModule) : undefined;
  const compileCycle = cycle !== undefined && isTypeScript(cycle);
  try {
    const esbuild = await import('esbuild');
    const out = await esbuild.build({
      entryPoints: { child: CHILD_SOURCE, ...(compileCycle ? { cycle: cycle! } : {}) },
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      // Packages stay external; marked free of side effects, so one that is imported but unused in the
      // child's graph (bullmq, through the core's door: ~0.3 s of start-up) is dropped. No source
      // imports a package for its side effects alone.
      plugins: [
        {
          name: 'external-packages',
          setup(b) {
            b.onResolve({ filter: /^[^./]/ }, (args) => ({ path: args.path, external: true, sideEffects: false }));
          },
        },
      ],
      outdir: join(outRoot, 'build'),
      write: false,
      logLevel: 'silent',
      sourcemap: 'inline',
    });
    const hash = createHash('sha256');
    for (const f of out.outputFiles) hash.update(f.path).update(f.contents);
    const dir = join(outRoot, hash.digest('hex').slice(0, 16));
    if (!existsSync(dir)) {
      const tmp = `${dir}.${process.pid}.${Date.now()}.tmp`;
      for (const f of out.outputFiles) {
        const target = join(tmp, f.path.slice(join(outRoot, 'build').length + 1));
        mkdirSync(dirname(target), { recursive: true });
        writeFileSync(target, f.contents);
      }
      // Node resolves bare imports by walking up from the file: var/sandbox/<hash>/ reaches the project's node_modules.
      writeFileSync(join(tmp, 'package.json'), '{"type":"module"}\n');
      try {
        renameSync(tmp, dir);
      } catch {
        rmSync(tmp, { recursive: true, force: true }); // another worker renamed the same content first
      }
    }
    return { entry: join(dir, 'child.js'), cycleModule: compileCycle ? join(dir, 'cycle.js') : cycleModule, compiled: true };
  } catch {
    return { entry: LOADER_CHILD_ENTRY, cycleModule, compiled: false };
  }
}

import { Worker } from 'node:worker_threads';

/**
 * Result files are written by one thread per process with synchronous calls: the same files through
 * fs/promises cost the worker's event loop more than the job itself (an open, a write, a close and a
 * rename, each a promise and a thread-pool round trip, per job). The thread is plain JavaScript so it
 * needs no TypeScript loader, and it keeps the process alive only while a write is pending.
 */
const THREAD_SOURCE = `
const { parentPort } = require('node:worker_threads');
const fs = require('node:fs');
const known = new Set();
// Writes arrive in batches (those asked for within GATHER_MS), answered in one message.
parentPort.on('message', (batch) => {
  parentPort.postMessage(batch.map(writeOne));
});
function writeOne(m) {
  try {
    if (!known.has(m.folder)) {
      fs.mkdirSync(m.folder, { recursive: true });
      if (known.size > 10000) known.clear();
      known.add(m.folder);
    }
    try {
      // The document comes as JSON (a string crosses threads more cheaply than an object), pretty-printed here.
      const doc = JSON.parse(m.json);
      fs.writeFileSync(m.tmp, JSON.stringify(m.head ? Object.assign({}, m.head, doc) : doc, null, 2));
    } catch (err) {
      known.delete(m.folder); // the folder may have gone: made again on the next try
      throw err;
    }
    fs.renameSync(m.tmp, m.path);
    return { id: m.id };
  } catch (err) {
    return { id: m.id, error: String(err && err.message || err), code: err && err.code };
  }
}`;

interface Reply {
  id: number;
  error?: string;
  code?: string;
}

let thread: Worker | null = null;
let seq = 0;
const waiting = new Map<number, { resolve: () => void; reject: (err: Error) => void }>();

function failAll(err: Error): void {
  for (const w of waiting.values()) w.reject(err);
  waiting.clear();
}

function writerThread(): Worker {
  if (thread) return thread;
  // No inherited flags: a loader or --input-type=module of the parent would change how the source is read.
  const t = new Worker(THREAD_SOURCE, { eval: true, execArgv: [] });
  t.unref();
  t.on('message', (replies: Reply[]) => {
    for (const r of replies) {
      const w = waiting.get(r.id);
      if (!w) continue;
      waiting.delete(r.id);
      if (r.error === undefined) w.resolve();
      else w.reject(Object.assign(new Error(r.error), r.code ? { code: r.code } : {}));
    }
    // Held open only while writes are pending: an idle thread never keeps the process alive.
    if (waiting.size === 0) t.unref();
  });
  // A thread that died takes its pending writes with it: they fail (and are retried by the writer).
  // 'error' is followed by 'exit': only the first counts, so writes already sent to a new thread are left alone.
  let ended = false;
  const gone = (err: Error) => {
    if (ended) return;
    ended = true;
    if (thread === t) thread = null;
    failAll(err);
  };
  t.on('error', gone);
  t.on('exit', (code) => gone(new Error(`result file thread exited (code ${code})`)));
  thread = t;
  return t;
}

/** Starts the thread ahead of the first write (a thread takes some milliseconds to come up); idle, it holds nothing open. */
export function warmFileWriteThread(): void {
  writerThread();
}

interface WriteRequest {
  id: number;
  folder: string;
  path: string;
  tmp: string;
  json: string;
  head?: Record<string, unknown>;
}

// Files asked for within a few milliseconds go to the thread in one message, answered in one: each
// message wakes a thread (the writer, then the worker's event loop for the answer), which costs more than
// a file's data. Files are off the jobs' critical path, and the pending hash keeps them across a crash.
const GATHER_MS = 10;
let outbox: WriteRequest[] = [];

function post(): void {
  const batch = outbox;
  outbox = [];
  try {
    const t = writerThread();
    t.ref();
    t.postMessage(batch);
  } catch (err) {
    for (const m of batch) {
      waiting.get(m.id)?.reject(err as Error);
      waiting.delete(m.id);
    }
  }
}

/**
 * Writes the document `json` (a JSON object's text), with the fields of `head` first, as pretty JSON to
 * `path` through `tmp` (same folder) and a rename, making `folder` first.
 */
export function writeJsonAtomically(folder: string, path: string, tmp: string, json: string, head?: Record<string, unknown>): Promise<void> {
  return new Promise((resolve, reject) => {
    const id = ++seq;
    waiting.set(id, { resolve, reject });
    if (outbox.push({ id, folder, path, tmp, json, ...(head ? { head } : {}) }) === 1) setTimeout(post, GATHER_MS);
  });
}

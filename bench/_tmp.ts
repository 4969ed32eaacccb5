import { benchConfig } from './bench-context.ts';
import { startApiStack } from './api-stack.ts';
const stack = await startApiStack(benchConfig(), { sandbox: true, concurrency: 2 });
const t0 = Date.now();
for (const w of stack.worker!.workers) { w.on('completed', (j) => console.log(Date.now()-t0, 'completed', j.id)); w.on('failed', (j, e) => console.log('failed', j?.id, e.message)); }
for (let i = 0; i < 5; i++) {
const res = await fetch(`${stack.base}/api/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ticker: 'SPY' }) });
console.log(Date.now()-t0, res.status, (await res.json()).job_id);
await new Promise((r) => setTimeout(r, 1000));
}
await stack.close(); process.exit(0);

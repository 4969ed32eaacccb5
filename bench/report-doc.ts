/** Markdown of a bench report: one table per section; docs/BENCHMARKS.md wraps it with its date and the goals. */
export function markdownOf(report: Record<string, unknown>): string {
  const tableOf = (rows: unknown) => {
    const list = (Array.isArray(rows) ? rows : [rows]) as Array<Record<string, unknown>>;
    const cols = [...new Set(list.flatMap((r) => Object.keys(r)))];
    return [`| ${cols.join(' | ')} |`, `|${cols.map(() => '---').join('|')}|`, ...list.map((r) => `| ${cols.map((c) => String(r[c] ?? '')).join(' | ')} |`)].join('\n');
  };
  return Object.entries(report).map(([k, v]) => `### ${k}\n\n${tableOf(v)}\n`).join('\n');
}

export function benchmarksDoc(report: Record<string, unknown>, quick: boolean): string {
  const date = (report.machine as { date?: string } | undefined)?.date ?? '?';
  return `# Benchmarks

Produced by \`npm run bench${quick ? ' -- --quick' : ''}\` on ${date}, with the Celery baseline (\`../shared/bench/celery/run.sh\`) of the
\`celery\` table. Goals: default (sandbox) mode ≥ 2 × Celery prefork end to end at c=2 and c=8; in process
(\`WORKER_SANDBOX=0\`) ≥ 0.9 × bare BullMQ; enqueue → start p99 ≤ 2 × Celery's; schedule fire lag p99 ≤ 20 ms with 0 missed
and 0 duplicate; \`GET /api/jobs?limit=50\` p99 ≤ 50 ms with 100 000 retained jobs and 20 clients; at 5 000 (schedule, ticker)
pairs reconcile from scratch < 5 s, one-line reload < 1 s, watchdog pass < 1 s; memory growth within noise.

${markdownOf(report)}
`;
}

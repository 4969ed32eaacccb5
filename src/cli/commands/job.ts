import { findJob, getJobView, readAttemptLog } from '../../tasks/index.ts';
import { EXIT } from '../cli-command.ts';
import { nyTime } from '../cli-context.ts';
import { jobIdCommand } from '../job-id-command.ts';

export default jobIdCommand({
  name: 'job',
  summary: 'one job: state, attempts (errors with stack traces) and its log lines',
  exits: 'exit 0 found, 1 unknown job, 3 Redis unreachable',
  run: async (ctx, id, args, io) => {
    const view = await getJobView(ctx, id);
    if (!view) {
      io.stderr(`no job ${id}\n`);
      return EXIT.failed;
    }
    const attempts = await readAttemptLog(ctx.redis, ctx.keys, id, view.status === 'running');
    const found = await findJob(ctx.queues, id);
    const logs = found ? (await ctx.queues[found.queue].getJobLogs(id, 0, -1, true)).logs : [];
    if (args.includes('--json')) {
      io.stdout(`${JSON.stringify({ ...view, attempts_log: attempts, logs }, null, 2)}\n`);
      return EXIT.ok;
    }
    const rows: Array<[string, unknown]> = [
      ['job', view.job_id],
      ['status', `${view.status}${view.reason ? ` (${view.reason})` : ''}`],
      ['ticker / agent', `${view.ticker} · ${view.agent}`],
      ['queue / trigger', `${view.queue} · ${view.trigger}${view.schedule_id ? ` · ${view.schedule_id}` : ''}`],
      ['created', nyTime(view.created_at)],
      ['started / done', `${nyTime(view.started_at)} · ${nyTime(view.completed_at)}`],
      ['attempts', view.attempts],
      ['decision', view.decision ? `${view.decision} (confidence ${view.confidence})` : '—'],
      ['error', view.error ?? '—'],
    ];
    io.stdout(rows.map(([k, v]) => `${k.padEnd(16)} ${String(v)}`).join('\n') + '\n');
    if (attempts.length) {
      io.stdout('\nattempts:\n');
      for (const a of attempts) {
        io.stdout(`  #${a.attempt} ${a.outcome.padEnd(9)} ${nyTime(a.started_at)} → ${nyTime(a.ended_at)}${a.worker ? ` on ${a.worker}` : ''}${a.detail ? `  ${a.detail}` : ''}\n`);
        if (a.error) io.stdout(`     ${a.error_name ? `${a.error_name}: ` : ''}${a.error}\n`);
        if (a.stack) io.stdout(a.stack.split('\n').slice(1).map((l) => `     ${l.trim()}\n`).join(''));
      }
    }
    if (logs.length) io.stdout(`\nlog:\n${logs.map((l) => `  ${l}`).join('\n')}\n`);
    return EXIT.ok;
  },
});

import pino from 'pino';
import { openHistory } from '../../history/index.ts';
import { findJob, resultOf, toJobView } from '../../tasks/index.ts';
import { EXIT } from '../cli-command.ts';
import { jobIdCommand } from '../job-id-command.ts';

export default jobIdCommand({
  name: 'result',
  summary: "a completed job's decision, reports and paper fill",
  exits: 'exit 0 a result, 1 unknown job or no result (not completed), 3 Redis unreachable\n  a job Redis no longer holds is read from the durable history when DATABASE_URL is set',
  run: async (ctx, id, args, io) => {
    const found = await findJob(ctx.queues, id);
    // Gone from Redis: the durable history (DATABASE_URL) may still have it.
    const kept = found ? null : await keptCycle(ctx.config, id);
    if (!found && !kept) {
      io.stderr(`no job ${id}\n`);
      return EXIT.failed;
    }
    const view = found ? toJobView(found.job, found.state, found.queue) : kept!.view;
    const result = found ? resultOf(found.job) : kept!.result;
    if (!result) {
      const why = view.error ?? view.reason;
      io.stderr(`job ${id} is ${view.status}; no result${why ? `: ${why}` : ' yet'}\n`);
      return EXIT.failed;
    }
    if (args.includes('--json')) {
      io.stdout(`${JSON.stringify({ job_id: id, status: view.status, ...result }, null, 2)}\n`);
      return EXIT.ok;
    }
    io.stdout(`${result.ticker} ${result.date} · ${result.agent}: ${result.decision} (${result.rating}, confidence ${result.confidence})\n`);
    io.stdout(`price ${result.price ?? '—'} · data ${result.data_source} · engine ${result.engine}${result.models.length ? ` (${result.models.join(', ')})` : ''} · cost ${result.usage.cost_unknown ? `unknown (at least $${result.usage.cost_usd.toFixed(4)})` : `$${result.usage.cost_usd.toFixed(4)}`}\n`);
    io.stdout(result.fill ? `paper fill: ${result.fill.side} ${result.fill.quantity} @ ${result.fill.price} (fees ${result.fill.fees})\n` : 'paper fill: none\n');
    io.stdout(`\n${result.reports.final}\n`);
    return EXIT.ok;
  },
});

async function keptCycle(config: Parameters<typeof openHistory>[0], id: string) {
  const history = openHistory(config, pino({ level: 'silent' }));
  if (!history) return null;
  try {
    return await history.cycle(id);
  } catch {
    return null;
  } finally {
    await history.close();
  }
}

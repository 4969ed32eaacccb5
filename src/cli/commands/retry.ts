import { retryJob } from '../../tasks/index.ts';
import { EXIT, type CliCommand } from '../cli-command.ts';
import { withCli } from '../cli-context.ts';

const command: CliCommand = {
  summary: 're-queue a failed or cancelled job under the same id (attempts kept)',
  usage: 'tradeloop retry <job_id> [--json]\n  exit 0 re-queued, 1 unknown job or not failed/cancelled, 3 Redis unreachable',
  run: (args, io) => {
    const id = args.find((a) => !a.startsWith('--'));
    if (!id) {
      io.stderr('usage: tradeloop retry <job_id>\n');
      return Promise.resolve(EXIT.usage);
    }
    return withCli(io, async (ctx) => {
      const r = await retryJob(ctx, id, new Date());
      if (!r) {
        io.stderr(`no job ${id}\n`);
        return EXIT.failed;
      }
      if (args.includes('--json')) io.stdout(`${JSON.stringify({ job_id: id, outcome: r.outcome, status: r.view.status, attempts: r.view.attempts })}\n`);
      else if (r.outcome === 'retried') io.stdout(`job ${id} re-queued (${r.view.attempts} attempt(s) so far)\n`);
      else io.stderr(`job ${id} is ${r.view.status}: only a failed or cancelled job can be retried\n`);
      return r.outcome === 'retried' ? EXIT.ok : EXIT.failed;
    });
  },
};
export default command;

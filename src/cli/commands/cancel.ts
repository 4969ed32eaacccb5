import { cancelJob } from '../../tasks/index.ts';
import { EXIT, type CliCommand } from '../cli-command.ts';
import { withCli } from '../cli-context.ts';

const command: CliCommand = {
  summary: 'cancel a pending or running job',
  usage: 'tradeloop cancel <job_id> [--json]\n  exit 0 cancelled (or cancelling), 1 already finished or unknown',
  run: (args, io) => {
    const id = args.find((a) => !a.startsWith('--'));
    if (!id) {
      io.stderr('usage: tradeloop cancel <job_id>\n');
      return Promise.resolve(EXIT.usage);
    }
    return withCli(io, async (ctx) => {
      const r = await cancelJob(ctx, id);
      const json = args.includes('--json');
      if (!r) {
        io.stderr(`no job ${id}\n`);
        return EXIT.failed;
      }
      if (json) io.stdout(`${JSON.stringify({ job_id: id, outcome: r.outcome, status: r.view.status })}\n`);
      else io.stdout(r.outcome === 'finished' ? `job ${id} already ${r.view.status}\n` : `job ${id} ${r.outcome}\n`);
      return r.outcome === 'finished' ? EXIT.failed : EXIT.ok;
    });
  },
};
export default command;

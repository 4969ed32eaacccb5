import { cancelJob } from '../../tasks/index.ts';
import { EXIT } from '../cli-command.ts';
import { jobIdCommand } from '../job-id-command.ts';

export default jobIdCommand({
  name: 'cancel',
  summary: 'cancel a pending or running job',
  exits: 'exit 0 cancelled (or cancelling), 1 already finished or unknown',
  run: async (ctx, id, args, io) => {
    const r = await cancelJob(ctx, id);
    const json = args.includes('--json');
    if (!r) {
      io.stderr(`no job ${id}\n`);
      return EXIT.failed;
    }
    if (json) io.stdout(`${JSON.stringify({ job_id: id, outcome: r.outcome, status: r.view.status })}\n`);
    else io.stdout(r.outcome === 'finished' ? `job ${id} already ${r.view.status}\n` : `job ${id} ${r.outcome}\n`);
    return r.outcome === 'finished' ? EXIT.failed : EXIT.ok;
  },
});

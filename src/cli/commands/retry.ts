import { retryJob } from '../../tasks/index.ts';
import { EXIT } from '../cli-command.ts';
import { jobIdCommand } from '../job-id-command.ts';

export default jobIdCommand({
  name: 'retry',
  summary: 're-queue a failed or cancelled job under the same id (attempts kept)',
  exits: 'exit 0 re-queued, 1 unknown job or not failed/cancelled, 3 Redis unreachable',
  run: async (ctx, id, args, io) => {
    const r = await retryJob(ctx, id, new Date());
    if (!r) {
      io.stderr(`no job ${id}\n`);
      return EXIT.failed;
    }
    if (args.includes('--json')) io.stdout(`${JSON.stringify({ job_id: id, outcome: r.outcome, status: r.view.status, attempts: r.view.attempts })}\n`);
    else if (r.outcome === 'retried') io.stdout(`job ${id} re-queued (${r.view.attempts} attempt(s) so far)\n`);
    else io.stderr(`job ${id} is ${r.view.status}: only a failed or cancelled job can be retried\n`);
    return r.outcome === 'retried' ? EXIT.ok : EXIT.failed;
  },
});

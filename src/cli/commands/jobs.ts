import { JOB_STATUSES, type JobStatus } from '../../core/index.ts';
import { listJobs } from '../../tasks/index.ts';
import { EXIT, type CliCommand } from '../cli-command.ts';
import { flag, nyTime, table, withCli } from '../cli-context.ts';

const command: CliCommand = {
  summary: 'list recent jobs, newest first',
  usage: 'tradeloop jobs [--status pending|running|completed|failed|cancelled|skipped] [--ticker T] [--limit N] [--json]',
  run: (args, io) => {
    const status = flag(args, '--status');
    const limit = Number(flag(args, '--limit') ?? 20);
    if (status && !(JOB_STATUSES as readonly string[]).includes(status)) {
      io.stderr(`tradeloop jobs: --status must be one of ${JOB_STATUSES.join(', ')}\n`);
      return Promise.resolve(EXIT.usage);
    }
    if (!Number.isInteger(limit) || limit < 1 || limit > 500) {
      io.stderr('tradeloop jobs: --limit must be 1..500\n');
      return Promise.resolve(EXIT.usage);
    }
    return withCli(io, async (ctx) => {
      const { jobs } = await listJobs(ctx, { status: status as JobStatus | undefined, ticker: flag(args, '--ticker')?.toUpperCase(), limit });
      if (args.includes('--json')) io.stdout(`${JSON.stringify(jobs, null, 2)}\n`);
      else io.stdout(table(['JOB', 'STATUS', 'TICKER', 'AGENT', 'DECISION', 'QUEUE', 'CREATED'], jobs.map((j) => [j.job_id, j.status, j.ticker, j.agent, j.decision ?? '', j.queue, nyTime(j.created_at)])));
      return EXIT.ok;
    });
  },
};
export default command;

import { agentNameSchema, isQueueName, JOB_STATUSES, QUEUE_NAMES, tickerSchema, type JobStatus, type QueueName } from '../../core/index.ts';
import { isJobCursor, listJobs } from '../../tasks/index.ts';
import { EXIT, type CliCommand } from '../cli-command.ts';
import { flag, nyTime, table, withCli } from '../cli-context.ts';

const command: CliCommand = {
  summary: 'list recent jobs, newest first',
  usage: [
    'tradeloop jobs [--status S] [--ticker T] [--agent A] [--schedule ID] [--queue Q] [--limit N] [--cursor C] [--json]',
    `  --status   ${JOB_STATUSES.join(' | ')}`,
    `  --queue    ${QUEUE_NAMES.join(' | ')}`,
    '  --limit    1..500 (default 20); --cursor continues from the "next:" line of the previous page',
    '  --json     the array of jobs on stdout; the next page\'s cursor on stderr ("next cursor: C")',
    '  exit 0 ok, 2 bad option, 3 Redis unreachable',
  ].join('\n'),
  run: (args, io) => {
    const usage = (message: string) => {
      io.stderr(`tradeloop jobs: ${message}\n`);
      return Promise.resolve(EXIT.usage);
    };
    const status = flag(args, '--status');
    const queue = flag(args, '--queue');
    const rawTicker = flag(args, '--ticker');
    const agent = flag(args, '--agent');
    const limit = Number(flag(args, '--limit') ?? 20);
    const cursor = flag(args, '--cursor');
    if (status !== undefined && !(JOB_STATUSES as readonly string[]).includes(status)) return usage(`--status must be one of ${JOB_STATUSES.join(', ')}`);
    if (queue !== undefined && !isQueueName(queue)) return usage(`--queue must be one of ${QUEUE_NAMES.join(', ')}`);
    if (!Number.isInteger(limit) || limit < 1 || limit > 500) return usage('--limit must be an integer 1..500');
    const ticker = rawTicker === undefined ? undefined : tickerSchema.safeParse(rawTicker);
    if (ticker && !ticker.success) return usage(`--ticker ${ticker.error.issues[0]!.message}`);
    if (cursor !== undefined && !isJobCursor(cursor)) return usage('--cursor is not a cursor printed by tradeloop jobs (the "next:" line)');
    if (agent !== undefined && !agentNameSchema.safeParse(agent).success) return usage('--agent must be an agent name (lowercase letters, digits, "-" or "_")');
    return withCli(io, async (ctx) => {
      const page = await listJobs(ctx, {
        status: status as JobStatus | undefined,
        ticker: ticker?.data,
        agent,
        schedule: flag(args, '--schedule'),
        queue: queue as QueueName | undefined,
        limit,
        cursor,
      });
      // --json prints the array of jobs (what scripts pipe to jq); the cursor goes to stderr.
      if (args.includes('--json')) {
        io.stdout(`${JSON.stringify(page.jobs, null, 2)}\n`);
        if (page.next_cursor) io.stderr(`next cursor: ${page.next_cursor}\n`);
      }
      else {
        io.stdout(
          table(
            ['JOB', 'STATUS', 'TICKER', 'AGENT', 'DECISION', 'QUEUE', 'CREATED', 'WHY'],
            page.jobs.map((j) => [j.job_id, j.status, j.ticker, j.agent, j.decision ?? '', j.queue, nyTime(j.created_at), j.reason ?? j.error ?? '']),
          ),
        );
        if (page.next_cursor) io.stdout(`next: tradeloop jobs --cursor ${page.next_cursor}${limit !== 20 ? ` --limit ${limit}` : ''}\n`);
      }
      return EXIT.ok;
    });
  },
};
export default command;

import { QUEUE_NAMES } from '../../core/index.ts';
import { EXIT, type CliCommand } from '../cli-command.ts';
import { table, withCli } from '../cli-context.ts';

const STATES = ['waiting', 'prioritized', 'active', 'delayed', 'completed', 'failed'] as const;

const command: CliCommand = {
  summary: 'depth per state of every queue',
  usage: 'tradeloop queues [--json]\n  depth per state (waiting, prioritized, active, delayed, completed, failed, paused) of every queue\n  exit 0 ok, 3 Redis unreachable',
  run: (args, io) =>
    withCli(io, async (ctx) => {
      const rows = await Promise.all(
        QUEUE_NAMES.map(async (name) => {
          const [paused, counts] = await Promise.all([ctx.queues[name].isPaused(), ctx.queues[name].getJobCounts(...STATES)]);
          // BullMQ 6 has no paused list: a paused queue's waiting jobs are the ones it holds back.
          const held = paused ? (counts.waiting ?? 0) + (counts.prioritized ?? 0) : 0;
          return { name, paused, counts: { ...counts, paused: held } as Record<string, number> };
        }),
      );
      if (args.includes('--json')) io.stdout(`${JSON.stringify(rows, null, 2)}\n`);
      else {
        const cols = [...STATES, 'paused'] as const;
        io.stdout(table(['QUEUE', ...cols.map((s) => s.toUpperCase())], rows.map((r) => [r.name, ...cols.map((s) => r.counts[s] ?? 0)])));
      }
      return EXIT.ok;
    }),
};
export default command;

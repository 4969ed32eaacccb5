import { QUEUE_NAMES } from '../../core/index.ts';
import { EXIT, type CliCommand } from '../cli-command.ts';
import { table, withCli } from '../cli-context.ts';

const STATES = ['waiting', 'prioritized', 'active', 'delayed', 'completed', 'failed'] as const;

const command: CliCommand = {
  summary: 'depth per state of every queue',
  usage: 'tradeloop queues [--json]',
  run: (args, io) =>
    withCli(io, async (ctx) => {
      const rows = await Promise.all(QUEUE_NAMES.map(async (name) => ({ name, paused: await ctx.queues[name].isPaused(), counts: await ctx.queues[name].getJobCounts(...STATES) })));
      if (args.includes('--json')) io.stdout(`${JSON.stringify(rows, null, 2)}\n`);
      else io.stdout(table(['QUEUE', ...STATES.map((s) => s.toUpperCase()), 'PAUSED'], rows.map((r) => [r.name, ...STATES.map((s) => r.counts[s] ?? 0), r.paused ? 'yes' : 'no'])));
      return EXIT.ok;
    }),
};
export default command;

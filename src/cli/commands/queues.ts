import { hostname, userInfo } from 'node:os';
import { isQueueName, QUEUE_NAMES } from '../../core/index.ts';
import { setQueuePaused } from '../../tasks/index.ts';
import { EXIT, type CliCommand } from '../cli-command.ts';
import { table, withCli } from '../cli-context.ts';

const STATES = ['waiting', 'prioritized', 'active', 'delayed', 'completed', 'failed'] as const;

const command: CliCommand = {
  summary: 'depth per state of every queue; pause or resume a queue',
  usage: [
    'tradeloop queues [--json]                 depth per state (waiting, prioritized, active, delayed, completed, failed, paused) of every queue',
    'tradeloop queues pause|resume <queue>     workers stop (or resume) taking its jobs; running ones finish',
    `  queues: ${QUEUE_NAMES.join(', ')}`,
    '  exit 0 ok, 2 bad usage or unknown queue, 3 Redis unreachable',
  ].join('\n'),
  run: (args, io) => {
    const [sub, name] = args.filter((a) => !a.startsWith('--'));
    if (sub !== undefined) {
      if (sub !== 'pause' && sub !== 'resume') {
        io.stderr(`tradeloop queues: unknown subcommand "${sub}" (pause, resume)\n`);
        return Promise.resolve(EXIT.usage);
      }
      if (!name || !isQueueName(name)) {
        io.stderr(`tradeloop queues ${sub}: ${name ? `unknown queue "${name}"` : 'name a queue'} (${QUEUE_NAMES.join(', ')})\n`);
        return Promise.resolve(EXIT.usage);
      }
      return withCli(io, async (ctx) => {
        const by = `${io.env.USER ?? userInfo().username}@${hostname()} (cli)`;
        const r = await setQueuePaused(ctx.queues, ctx.redis, ctx.keys, name, sub === 'pause', by);
        io.stdout(args.includes('--json') ? `${JSON.stringify(r)}\n` : `queue ${name} ${r.paused ? 'paused' : 'resumed'}\n`);
        return EXIT.ok;
      });
    }
    return withCli(io, async (ctx) => {
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
        io.stdout(table(['QUEUE', 'STATE', ...cols.map((s) => s.toUpperCase())], rows.map((r) => [r.name, r.paused ? 'paused' : 'running', ...cols.map((s) => r.counts[s] ?? 0)])));
      }
      return EXIT.ok;
    });
  },
};
export default command;

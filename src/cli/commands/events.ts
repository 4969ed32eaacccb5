import { LiveEvents } from '../../dashboard/index.ts';
import { EXIT, type CliCommand } from '../cli-command.ts';
import { flag, withCli } from '../cli-context.ts';
import pino from 'pino';
import { eventLine } from '../event-line.ts';

const command: CliCommand = {
  summary: 'tail live events (cycles, schedules, workers, queues, decisions): one line each, or --json',
  usage: [
    'tradeloop events [--json] [--type PREFIX] [--count N]',
    '  --json     one JSON object per line (for jq)',
    '  --type     only events whose type starts with PREFIX (cycle, cycle.failed, decision …)',
    '  --count    exit after N events (default: run until Ctrl-C)',
    '  exit 0 ok, 2 bad usage, 3 Redis unreachable',
  ].join('\n'),
  run: (args, io) => {
    const count = flag(args, '--count') === undefined ? Infinity : Number(flag(args, '--count'));
    if (!(count === Infinity || (Number.isInteger(count) && count > 0))) {
      io.stderr('tradeloop events: --count must be a positive integer\n');
      return Promise.resolve(EXIT.usage);
    }
    const type = flag(args, '--type');
    const json = args.includes('--json');
    return withCli(io, async (ctx) => {
      const live = new LiveEvents(ctx.config, ctx.keys, ctx.queues, pino({ level: 'silent' }));
      try {
        await live.ready();
        io.stderr(`tailing events under prefix ${ctx.config.QUEUE_PREFIX} (Ctrl-C to stop)\n`);
        let seen = 0;
        await new Promise<void>((resolve) => {
          const stop = () => resolve();
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
          live.on((e) => {
            if (type && !e.type.startsWith(type)) return;
            io.stdout(json ? `${JSON.stringify(e)}\n` : `${eventLine(e)}\n`);
            if (++seen >= count) resolve();
          });
        });
      } finally {
        await live.close();
      }
      return EXIT.ok;
    });
  },
};
export default command;

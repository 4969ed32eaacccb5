import { EXIT, type CliCommand } from '../cli-command.ts';
import { flag } from '../cli-context.ts';
import { APPS, pm2 } from '../pm2-control.ts';

const command: CliCommand = {
  summary: 'recent log lines of scheduler, worker or dashboard (PM2 log files under ./logs)',
  usage: 'tradeloop logs [scheduler|worker|dashboard] [--lines N]',
  async run(args, io) {
    const lines = flag(args, '--lines') ?? '100';
    if (!/^[1-9]\d{0,5}$/.test(lines)) {
      io.stderr(`tradeloop logs: --lines must be a positive integer, got "${lines}"\n`);
      return EXIT.usage;
    }
    const which = args.find((a, i) => !a.startsWith('--') && args[i - 1] !== '--lines');
    // Own names only: "constructor" is no process group.
    if (which !== undefined && !Object.hasOwn(APPS, which)) {
      io.stderr(`tradeloop logs: unknown process group "${which}" (${Object.keys(APPS).join(', ')})\n`);
      return EXIT.usage;
    }
    const r = pm2(['logs', ...(which ? [APPS[which as keyof typeof APPS]] : []), '--lines', lines, '--nostream', '--raw'], io.env);
    io.stdout(r.stdout);
    return r.code === 0 ? EXIT.ok : EXIT.failed;
  },
};
export default command;

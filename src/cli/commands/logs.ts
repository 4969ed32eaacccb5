import { EXIT, type CliCommand } from '../cli-command.ts';
import { flag } from '../cli-context.ts';
import { APPS, pm2 } from '../pm2-control.ts';

const command: CliCommand = {
  summary: 'recent log lines of scheduler, worker or dashboard (PM2 log files under ./logs)',
  usage: 'tradeloop logs [scheduler|worker|dashboard] [--lines N]',
  async run(args, io) {
    const which = args.find((a) => !a.startsWith('--') && !/^\d+$/.test(a));
    if (which && !(which in APPS)) {
      io.stderr('usage: tradeloop logs [scheduler|worker|dashboard] [--lines N]\n');
      return EXIT.usage;
    }
    const r = pm2(['logs', ...(which ? [APPS[which as keyof typeof APPS]] : []), '--lines', flag(args, '--lines') ?? '100', '--nostream', '--raw'], io.env);
    io.stdout(r.stdout);
    return r.code === 0 ? EXIT.ok : EXIT.failed;
  },
};
export default command;

import { existsSync } from 'node:fs';
import { EXIT, type CliCommand } from '../cli-command.ts';
import { flag } from '../cli-context.ts';
import { ecosystemLogFiles, printLogTails } from '../log-files.ts';
import { APPS, pm2, pm2DaemonRunning } from '../pm2-control.ts';

const command: CliCommand = {
  summary: 'recent log lines of scheduler, worker or dashboard (PM2 log files under ./logs)',
  usage: 'tradeloop logs [scheduler|worker|dashboard] [--lines N]\n  with no PM2 daemon running, the last lines of the log files under ./logs (exit 1 when there are none)',
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
    // Asking PM2 with no daemon would start one (and leave it running) to print nothing: read the files it wrote.
    if (!pm2DaemonRunning(io.env)) {
      const groups = which ? [which as keyof typeof APPS] : (Object.keys(APPS) as Array<keyof typeof APPS>);
      const files = ecosystemLogFiles(groups).filter((f) => existsSync(f.path));
      if (!files.length) {
        io.stderr(`tradeloop is not running under PM2 and has left no log files of ${which ?? 'scheduler, worker or dashboard'} under ./logs (tradeloop start)\n`);
        return EXIT.failed;
      }
      io.stderr('tradeloop is not running under PM2; the last lines of the log files it left under ./logs:\n');
      printLogTails(files, Number(lines), io);
      return EXIT.ok;
    }
    const r = pm2(['logs', ...(which ? [APPS[which as keyof typeof APPS]] : []), '--lines', lines, '--nostream', '--raw'], io.env);
    io.stdout(r.stdout);
    // With --raw PM2 prints the error files' lines on stderr: they are the ones most worth reading.
    io.stderr(r.stderr);
    return r.code === 0 ? EXIT.ok : EXIT.failed;
  },
};
export default command;

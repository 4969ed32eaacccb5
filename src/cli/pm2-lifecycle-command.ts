import { EXIT, type CliCommand } from './cli-command.ts';
import { APPS, ECOSYSTEM, pm2, pm2DaemonRunning } from './pm2-control.ts';

const GROUPS = Object.keys(APPS) as Array<keyof typeof APPS>;

/**
 * `tradeloop start|stop|restart [scheduler|worker|dashboard]`: the PM2 action on every app of
 * ecosystem.config.cjs, or on one process group only (`--only`), leaving the others running.
 */
export function lifecycleCommand(action: 'start' | 'stop' | 'restart'): CliCommand {
  return {
    summary: `${action} scheduler, workers and dashboard under PM2 (or one group: ${GROUPS.join('|')})`,
    usage: `tradeloop ${action} [${GROUPS.join('|')}]   (all three when none is named; PM2 state in ./var/pm2 unless PM2_HOME is set; logs in ./logs)`,
    async run(args, io) {
      const group = args.find((a) => !a.startsWith('--'));
      if (group !== undefined && !(GROUPS as string[]).includes(group)) {
        io.stderr(`tradeloop ${action}: unknown process group "${group}" (${GROUPS.join(', ')})\n`);
        return EXIT.usage;
      }
      // Nothing runs without a daemon: asking PM2 to stop would start one (and leave it running) to stop nothing.
      if (action === 'stop' && !pm2DaemonRunning(io.env)) {
        io.stdout('tradeloop is not running under PM2; nothing to stop\n');
        return EXIT.ok;
      }
      // Restarting what does not run is a mistake to report, not a start in disguise (that is `tradeloop start`).
      if (action === 'restart' && !pm2DaemonRunning(io.env)) {
        io.stderr('tradeloop restart: tradeloop is not running under PM2; nothing to restart (tradeloop start)\n');
        return EXIT.failed;
      }
      const only = group ? ['--only', APPS[group as keyof typeof APPS]] : [];
      const r = pm2([action, ECOSYSTEM, ...only], io.env);
      io.stdout(r.stdout);
      if (r.code !== 0) io.stderr(r.stderr);
      return r.code === 0 ? EXIT.ok : EXIT.failed;
    },
  };
}

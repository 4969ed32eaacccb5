import { EXIT, type CliCommand } from './cli-command.ts';
import { ECOSYSTEM, pm2 } from './pm2-control.ts';

/** `tradeloop start|stop|restart`: the same PM2 action on every app of ecosystem.config.cjs. */
export function lifecycleCommand(action: 'start' | 'stop' | 'restart'): CliCommand {
  return {
    summary: `${action} scheduler, workers and dashboard under PM2 (ecosystem.config.cjs)`,
    usage: `tradeloop ${action}   (PM2 state in ./var/pm2 unless PM2_HOME is set; logs in ./logs)`,
    async run(_args, io) {
      const r = pm2([action, ECOSYSTEM], io.env);
      io.stdout(r.stdout);
      if (r.code !== 0) io.stderr(r.stderr);
      return r.code === 0 ? EXIT.ok : EXIT.failed;
    },
  };
}

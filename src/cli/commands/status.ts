import { EXIT, type CliCommand } from '../cli-command.ts';
import { table } from '../cli-context.ts';
import { APPS, parseJlist, pm2, pm2DaemonRunning } from '../pm2-control.ts';

type PmProcess = { name: string; pid: number; pm_id: number; pm2_env: { status: string; restart_time: number; pm_uptime: number }; monit?: { memory: number; cpu: number } };

const command: CliCommand = {
  summary: 'PM2 status of the tradeloop processes',
  usage: 'tradeloop status [--json]\n  exit 0 when every app has an online process, 1 otherwise',
  async run(args, io) {
    let processes: PmProcess[] = [];
    if (pm2DaemonRunning(io.env)) {
      const r = pm2(['jlist'], io.env);
      if (r.code !== 0) {
        io.stderr(r.stderr);
        return EXIT.failed;
      }
      const parsed = parseJlist<PmProcess>(r.stdout);
      if (!parsed) {
        io.stderr(`tradeloop status: could not read PM2's process list: ${r.stdout.slice(0, 200)}\n`);
        return EXIT.failed;
      }
      processes = parsed;
    }
    const list = processes.filter((p) => p.name.startsWith('tradeloop-'));
    const rows = list.map((p) => ({ name: p.name, id: p.pm_id, pid: p.pid, status: p.pm2_env.status, restarts: p.pm2_env.restart_time, memory_mb: Math.round((p.monit?.memory ?? 0) / 1e6), uptime_s: p.pm2_env.status === 'online' ? Math.round((Date.now() - p.pm2_env.pm_uptime) / 1000) : 0 }));
    if (args.includes('--json')) io.stdout(`${JSON.stringify(rows, null, 2)}\n`);
    else io.stdout(rows.length ? table(['APP', 'ID', 'PID', 'STATUS', 'RESTARTS', 'MEM MB', 'UPTIME'], rows.map((x) => [x.name, x.id, x.pid, x.status, x.restarts, x.memory_mb, `${x.uptime_s}s`])) : 'tradeloop is not running under PM2 (tradeloop start)\n');
    const allUp = Object.values(APPS).every((name) => rows.some((x) => x.name === name && x.status === 'online'));
    return allUp ? EXIT.ok : EXIT.failed;
  },
};
export default command;

import { QUEUE_NAMES, CYCLE_JOB_NAME } from '../../core/index.ts';
import { readWorkers } from '../../tasks/index.ts';
import { EXIT, type CliCommand } from '../cli-command.ts';
import { nyTime, table, withCli } from '../cli-context.ts';

const command: CliCommand = {
  summary: 'the celery inspect of tradeloop: ping | active | stats | registered',
  usage: 'tradeloop inspect ping|active|stats|registered [--json]\n  ping: workers with a fresh heartbeat (exit 1 when none)\n  active: running jobs per worker\n  stats: counts, uptime, concurrency, memory\n  registered: queues and the job each worker serves',
  run: (args, io) => {
    const what = args.find((a) => !a.startsWith('--'));
    if (!what || !['ping', 'active', 'stats', 'registered'].includes(what)) {
      io.stderr('usage: tradeloop inspect ping|active|stats|registered [--json]\n');
      return Promise.resolve(EXIT.usage);
    }
    return withCli(io, async (ctx) => {
      const workers = await readWorkers(ctx.redis, ctx.keys);
      const online = workers.filter((w) => w.online);
      const json = args.includes('--json');
      const out = (value: unknown, text: string) => io.stdout(json ? `${JSON.stringify(value, null, 2)}\n` : text);
      if (what === 'ping') {
        out(
          online.map((w) => ({ worker: w.id, ok: 'pong', last_heartbeat: w.last_heartbeat })),
          online.length ? online.map((w) => `${w.id}: pong (${nyTime(w.last_heartbeat)})\n`).join('') + `${online.length} worker(s) online\n` : 'no worker answered\n',
        );
        return online.length ? EXIT.ok : EXIT.failed;
      }
      if (what === 'active') {
        out(
          Object.fromEntries(online.map((w) => [w.id, w.active])),
          table(['WORKER', 'JOB', 'QUEUE', 'TICKER', 'AGENT', 'STARTED'], online.flatMap((w) => w.active.map((a) => [w.id, a.job_id, a.queue, a.ticker, a.agent, nyTime(a.started_at)]))),
        );
        return EXIT.ok;
      }
      if (what === 'stats') {
        out(
          workers,
          table(
            ['WORKER', 'STATE', 'PID', 'CONCURRENCY', 'SANDBOX', 'PROCESSED', 'FAILED', 'RSS MB', 'UPTIME', 'VERSION'],
            workers.map((w) => [w.id, w.online ? 'online' : 'offline', w.pid, w.concurrency, w.sandbox ? `yes (${w.sandbox_pids.length})` : 'no', w.processed, w.failed, Math.round(w.rss_bytes / 1e6), `${Math.round((Date.now() - Date.parse(w.started_at)) / 1000)}s`, w.version]),
          ),
        );
        return EXIT.ok;
      }
      out(
        Object.fromEntries(online.map((w) => [w.id, w.queues.map((q) => ({ queue: q, job: CYCLE_JOB_NAME }))])),
        table(['WORKER', 'QUEUES', 'JOB'], online.map((w) => [w.id, w.queues.join(','), CYCLE_JOB_NAME])) + `known queues: ${QUEUE_NAMES.join(', ')}\n`,
      );
      return EXIT.ok;
    });
  },
};
export default command;

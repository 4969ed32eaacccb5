import { hostname } from 'node:os';
import { readPresence } from '../../scheduler/index.ts';
import { readWorkers } from '../../tasks/index.ts';
import { EXIT, type CliCommand } from '../cli-command.ts';
import { flag, withCli } from '../cli-context.ts';

const ROLES = ['dashboard', 'worker', 'scheduler', 'redis'] as const;
type Role = (typeof ROLES)[number];

/**
 * The container health check of one role, on this host: Redis reachable, and the dashboard answering
 * /healthz, a worker of this host heartbeating, or a scheduler of this host present (leader or not).
 */
const command: CliCommand = {
  summary: 'health of this host\'s role (dashboard, worker, scheduler) for container health checks',
  usage: 'tradeloop health [--role dashboard|worker|scheduler|redis]\n  role defaults to $TRADELOOP_ROLE, else redis (Redis reachable)\n  exit 0 healthy, 1 unhealthy, 3 Redis unreachable',
  run: (args, io) => {
    const role = (flag(args, '--role') ?? io.env.TRADELOOP_ROLE ?? 'redis') as Role;
    if (!ROLES.includes(role)) {
      io.stderr(`tradeloop health: unknown role "${role}" (${ROLES.join(', ')})\n`);
      return Promise.resolve(EXIT.usage);
    }
    return withCli(io, async (ctx) => {
      const host = hostname();
      let healthy = true;
      let detail = 'redis reachable';
      if (role === 'dashboard') {
        const url = `http://127.0.0.1:${ctx.config.PORT}/healthz`;
        const res = await fetch(url, { signal: AbortSignal.timeout(3_000) }).catch((err: Error) => err);
        healthy = !(res instanceof Error) && res.ok;
        detail = res instanceof Error ? `${url}: ${res.message}` : `${url}: ${res.status}`;
      } else if (role === 'worker') {
        const mine = (await readWorkers(ctx.redis, ctx.keys)).filter((w) => w.host === host);
        healthy = mine.some((w) => w.online);
        detail = `${mine.filter((w) => w.online).length} worker(s) of ${host} heartbeating`;
      } else if (role === 'scheduler') {
        const mine = (await readPresence(ctx.redis, ctx.keys, new Date())).filter((p) => p.host === host);
        healthy = mine.length > 0;
        detail = `${mine.length} scheduler(s) of ${host} present${mine.some((p) => p.leader) ? ', leading' : ''}`;
      }
      io.stdout(`${healthy ? 'healthy' : 'unhealthy'}: ${role}: ${detail}\n`);
      return healthy ? EXIT.ok : EXIT.failed;
    });
  },
};
export default command;

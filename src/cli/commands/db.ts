import cliProgress from 'cli-progress';
import pino from 'pino';
import { ConfigError, loadConfig, type Config } from '../../core/index.ts';
import { describeDatabase, migrateHistory, migrationStatus, openHistory } from '../../history/index.ts';
import { backfillHistory } from '../../tasks/index.ts';
import { EXIT, type CliCommand, type CliIO } from '../cli-command.ts';
import { withCli } from '../cli-context.ts';

/** Adds the finished cycles Redis still holds to the history, with a bar on the terminal. */
async function backfill(io: CliIO, config: Config, where: string, json: boolean): Promise<number> {
  return withCli(io, async (ctx) => {
    const history = openHistory(config, pino({ level: 'silent' }))!;
    try {
      await history.ready();
    } catch (err) {
      await history.close();
      io.stderr(`tradeloop db: cannot reach PostgreSQL at ${where}: ${(err as Error).message}\n`);
      return EXIT.unavailable;
    }
    const bar = json ? null : new cliProgress.SingleBar({ format: 'back-fill {queue} {bar} {value}/{total} jobs', hideCursor: true, stream: process.stderr, noTTYOutput: true, notTTYSchedule: 1000 }, cliProgress.Presets.shades_classic);
    let current = '';
    try {
      const count = await backfillHistory(ctx.queues, history, (p) => {
        if (!bar) return;
        if (p.queue !== current) {
          if (current) bar.stop();
          current = p.queue;
          bar.start(p.total, 0, { queue: p.queue });
        }
        bar.update(Math.min(p.examined, p.total), { queue: p.queue });
      });
      bar?.stop();
      io.stdout(
        json
          ? `${JSON.stringify({ database: where, ...count })}\n`
          : `${where}: ${count.added} cycles added, ${count.examined - count.added - count.unreadable} already there${count.unreadable ? `, ${count.unreadable} jobs not cycles` : ''} (of ${count.examined} finished jobs Redis holds)\n`,
      );
      return EXIT.ok;
    } catch (err) {
      bar?.stop();
      io.stderr(`tradeloop db: back-fill stopped: ${(err as Error).message} (run it again: rows already added stay, none is written twice)\n`);
      return EXIT.unavailable;
    } finally {
      await history.close();
    }
  });
}

const command: CliCommand = {
  summary: 'the durable history database (DATABASE_URL): apply migrations, show their status, back-fill it',
  usage: [
    'tradeloop db migrate [--json]   apply the history migrations not yet applied (safe while other processes start: advisory lock)',
    'tradeloop db status [--json]    applied and pending migrations of DATABASE_SCHEMA',
    'tradeloop db backfill [--json]  add the finished cycles Redis still holds (BullMQ\'s kept jobs) that the history lacks; rows there stay',
    '  exit 0 ok (status: nothing pending), 1 migrations pending, 2 bad usage or DATABASE_URL not set, 3 PostgreSQL unreachable',
  ].join('\n'),
  async run(args, io) {
    const json = args.includes('--json');
    const [sub] = args.filter((a) => !a.startsWith('--'));
    if (sub !== 'migrate' && sub !== 'status' && sub !== 'backfill') {
      io.stderr(`tradeloop db: ${sub ? `unknown subcommand "${sub}"` : 'name a subcommand'} (migrate, status, backfill)\n`);
      return EXIT.usage;
    }
    let config;
    try {
      config = loadConfig(io.env);
    } catch (err) {
      if (err instanceof ConfigError) {
        io.stderr(`tradeloop: ${err.message}\n`);
        return EXIT.usage;
      }
      throw err;
    }
    if (!config.DATABASE_URL) {
      io.stderr('tradeloop db: DATABASE_URL is not set (a PostgreSQL URL such as postgres://user:password@host:5432/tradeloop)\n');
      return EXIT.usage;
    }
    const where = describeDatabase(config);
    if (sub === 'backfill') return backfill(io, config, where, json);
    try {
      if (sub === 'migrate') {
        const applied = await migrateHistory(config, pino({ level: 'silent' }));
        io.stdout(json ? `${JSON.stringify({ database: where, applied })}\n` : applied.length ? `${where}: applied ${applied.join(', ')}\n` : `${where}: up to date\n`);
        return EXIT.ok;
      }
      const status = await migrationStatus(config);
      if (json) io.stdout(`${JSON.stringify({ database: where, ...status })}\n`);
      else {
        for (const m of status.applied) io.stdout(`applied  ${m.name}  ${m.run_on}\n`);
        for (const name of status.pending) io.stdout(`pending  ${name}\n`);
        io.stdout(`${where}: ${status.applied.length} applied, ${status.pending.length} pending${status.pending.length ? ' (run tradeloop db migrate, or start any process)' : ''}\n`);
      }
      return status.pending.length ? EXIT.failed : EXIT.ok;
    } catch (err) {
      io.stderr(`tradeloop db: cannot reach PostgreSQL at ${where}: ${(err as Error).message}\n`);
      return EXIT.unavailable;
    }
  },
};
export default command;

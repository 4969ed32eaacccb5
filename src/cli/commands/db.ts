import pino from 'pino';
import { ConfigError, loadConfig } from '../../core/index.ts';
import { describeDatabase, migrateHistory, migrationStatus } from '../../history/index.ts';
import { EXIT, type CliCommand } from '../cli-command.ts';

const command: CliCommand = {
  summary: 'the durable history database (DATABASE_URL): apply migrations, show their status',
  usage: [
    'tradeloop db migrate [--json]   apply the history migrations not yet applied (safe while other processes start: advisory lock)',
    'tradeloop db status [--json]    applied and pending migrations of DATABASE_SCHEMA',
    '  exit 0 ok (status: nothing pending), 1 migrations pending, 2 bad usage or DATABASE_URL not set, 3 PostgreSQL unreachable',
  ].join('\n'),
  async run(args, io) {
    const json = args.includes('--json');
    const [sub] = args.filter((a) => !a.startsWith('--'));
    if (sub !== 'migrate' && sub !== 'status') {
      io.stderr(`tradeloop db: ${sub ? `unknown subcommand "${sub}"` : 'name a subcommand'} (migrate, status)\n`);
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

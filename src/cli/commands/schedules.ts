import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { MarketCalendar } from '../../calendar/index.ts';
import {
  describeSchedules,
  formatIssue,
  lineDiff,
  loadScheduleFile,
  publishScheduleSet,
  readPublishedSource,
  readSourceConflicts,
  ScheduleFileError,
  shortHash,
} from '../../scheduler/index.ts';
import { EXIT, type CliCommand, type CliIO } from '../cli-command.ts';
import { nyTime, table, withCli, type CliContext } from '../cli-context.ts';

const localFile = (args: string[], io: CliIO) => args.find((a) => !a.startsWith('--')) ?? io.env.SCHEDULES_FILE ?? './schedules.yaml';

async function list(args: string[], io: CliIO, ctx: CliContext): Promise<number> {
  const calendar = new MarketCalendar({ extraClosures: ctx.config.MARKET_CLOSURES });
  const [list, conflicts] = await Promise.all([describeSchedules(ctx.redis, ctx.keys, ctx.queues, calendar, new Date()), readSourceConflicts(ctx.redis, ctx.keys, new Date())]);
  if (args.includes('--json')) {
    io.stdout(`${JSON.stringify(list, null, 2)}\n`);
    return EXIT.ok;
  }
  for (const c of conflicts) io.stdout(`ERROR: scheduler ${c.scheduler}: ${c.message}\n`);
  if (list.length === 0) {
    io.stdout('no schedules loaded (is the scheduler running?)\n');
    return EXIT.ok;
  }
  io.stdout(
    table(
      ['ID', 'AGENT', 'TICKERS', 'EVERY/CRON', 'SESSION', 'STATE', 'NEXT RUN', 'LAST'],
      list.map((s) => [s.id, s.agent, s.tickers.join(','), s.every ?? s.cron ?? '', s.market_hours, !s.enabled ? 'disabled' : s.paused ? 'paused' : 'active', s.enabled && !s.paused ? nyTime(s.next_run) : '—', s.last_run ? `${s.last_run.decision ?? s.last_run.status} ${s.last_run.ticker}` : '—']),
    ),
  );
  return EXIT.ok;
}

/** Like diff(1): exit 0 when the local file is the published one, 1 when they differ. */
async function diff(args: string[], io: CliIO, ctx: CliContext): Promise<number> {
  const file = localFile(args, io);
  const local = await loadScheduleFile(file);
  const source = await readPublishedSource(ctx.redis, ctx.keys);
  if (!source) {
    io.stdout(`nothing published yet; ${file} (${shortHash(local.hash)}) is published when a scheduler takes the lead\n`);
    return EXIT.failed;
  }
  const lines = lineDiff(source.text, local.text);
  if (args.includes('--json')) {
    io.stdout(`${JSON.stringify({ same: lines.length === 0, local: { file, hash: local.hash }, published: { file: source.file, host: source.host, hash: source.hash, published_at: source.published_at }, diff: lines }, null, 2)}\n`);
    return lines.length ? EXIT.failed : EXIT.ok;
  }
  if (!lines.length) {
    io.stdout(`${file} is the published schedule (${shortHash(local.hash)})\n`);
    return EXIT.ok;
  }
  io.stdout(`--- published ${source.file} on ${source.host} (${shortHash(source.hash)}, ${source.published_at})\n+++ local ${file} (${shortHash(local.hash)})\n${lines.join('\n')}\n`);
  return EXIT.failed;
}

/** Makes a validated local file the published schedule; the leader runs it from its next round. */
async function publish(args: string[], io: CliIO, ctx: CliContext): Promise<number> {
  const file = localFile(args, io);
  const set = await loadScheduleFile(file);
  await publishScheduleSet(ctx.redis, ctx.keys, { ...set, file: resolve(file) }, new Date(), { host: hostname(), scheduler: 'tradeloop schedules publish' });
  await ctx.redis.publish(ctx.keys.controlChannel, 'reload');
  io.stdout(`published ${file} (${shortHash(set.hash)}); the leading scheduler runs it from its next round\n`);
  return EXIT.ok;
}

const command: CliCommand = {
  summary: 'list schedules (next runs in New York time, state, last decision); diff or publish the schedule file',
  usage: [
    'tradeloop schedules [--json]            schedules with next runs; an ERROR line per scheduler whose file is not the published one',
    'tradeloop schedules diff [file] [--json]  the published schedule against the local file (exit 0 same, 1 different)',
    'tradeloop schedules publish [file]      make the local file the published schedule (validated first)',
    '  file defaults to $SCHEDULES_FILE or ./schedules.yaml',
  ].join('\n'),
  run: (args, io) =>
    withCli(io, async (ctx) => {
      const [sub, ...rest] = args;
      try {
        if (sub === 'diff') return await diff(rest, io, ctx);
        if (sub === 'publish') return await publish(rest, io, ctx);
      } catch (err) {
        if (!(err instanceof ScheduleFileError)) throw err;
        for (const issue of err.issues) io.stderr(`${formatIssue(issue)}\n`);
        return EXIT.failed;
      }
      if (sub && !sub.startsWith('--')) {
        io.stderr(`tradeloop schedules: unknown subcommand "${sub}" (diff, publish)\n`);
        return EXIT.usage;
      }
      return list(args, io, ctx);
    }),
};
export default command;

import { userInfo, hostname } from 'node:os';
import { resolve } from 'node:path';
import { MarketCalendar } from '../../calendar/index.ts';
import {
  describeSchedule,
  describeSchedules,
  formatIssue,
  lineDiff,
  loadScheduleFile,
  MAX_NEXT_RUNS,
  publishScheduleSet,
  readPublishedSchedules,
  readPublishedSource,
  readSourceConflicts,
  ScheduleFileError,
  setSchedulePaused,
  shortHash,
  type ScheduleDetail,
} from '../../scheduler/index.ts';
import { EXIT, type CliCommand, type CliIO } from '../cli-command.ts';
import { flag, nyTime, table, withCli, type CliContext } from '../cli-context.ts';

const USAGE = [
  'tradeloop schedules [--json]                     list schedules with next run, state and last decision',
  'tradeloop schedules show <id> [--next N] [--json] next N runs per ticker (calendar applied), recent runs, counts, today\'s slots',
  'tradeloop schedules pause <id> [--note TEXT]     pause at run time (who, when and the note are kept)',
  'tradeloop schedules resume <id>',
  'tradeloop schedules diff [file] [--json]          the published schedule against the local file (exit 0 same, 1 different)',
  'tradeloop schedules publish [file]               make the local file the published schedule (validated first)',
  '  file defaults to $SCHEDULES_FILE or ./schedules.yaml',
  '  exit 0 ok, 1 unknown schedule, 2 bad usage, 3 Redis unreachable',
].join('\n');

const tally = (t: ScheduleDetail['counts']['today']) =>
  `ran ${t.ran} · failed ${t.failed} · cancelled ${t.cancelled} · skipped ${Object.entries(t.skipped).map(([k, v]) => `${k} ${v}`).join(', ') || '0'}`;

function printDetail(d: ScheduleDetail, io: CliIO): void {
  io.stdout(`${d.id}  ${d.agent}  ${d.tickers.join(',')}  ${d.every ?? d.cron}  ${d.market_hours}  ${!d.enabled ? 'disabled' : d.paused ? 'paused' : 'active'}\n`);
  if (d.pause) io.stdout(`paused by ${d.pause.by} at ${nyTime(d.pause.at)}${d.pause.note ? `: ${d.pause.note}` : ''}\n`);
  io.stdout(`\nnext runs (New York time):\n`);
  for (const r of d.next_runs) io.stdout(`  ${r.ticker.padEnd(8)} ${r.runs.map((t) => nyTime(t)).join(' | ') || '—'}\n`);
  io.stdout(`\ncounts today:    ${tally(d.counts.today)}\ncounts all time: ${tally(d.counts.all_time)}\n`);
  const t = d.today;
  io.stdout(`\ntoday ${t.date}: ${t.session ? `${nyTime(t.session.open)} – ${nyTime(t.session.close)}${t.session.early_close ? ' (early close)' : ''}` : 'market closed'}\n`);
  for (const slot of t.slots) io.stdout(`  ${nyTime(slot.at)}  ${slot.runs.map((r) => `${r.ticker} ${r.decision ?? r.status}${r.reason ? ` (${r.reason})` : ''}`).join('  ')}\n`);
  if (t.truncated) io.stdout(`  … ${t.truncated} more slots\n`);
  if (d.recent_runs.length) {
    io.stdout('\nrecent runs:\n');
    io.stdout(table(['DUE', 'TICKER', 'TRIGGER', 'OUTCOME', 'JOB'], d.recent_runs.map((r) => [nyTime(new Date(r.due_at).toISOString()), r.ticker, r.trigger, `${r.decision ?? r.status}${r.reason ? ` (${r.reason})` : ''}`, r.job_id])).replace(/^/gm, '  '));
  }
}

async function list(args: string[], io: CliIO, ctx: CliContext): Promise<number> {
  const calendar = new MarketCalendar({ extraClosures: ctx.config.MARKET_CLOSURES });
  const [all, conflicts] = await Promise.all([describeSchedules(ctx.redis, ctx.keys, ctx.queues, calendar, new Date()), readSourceConflicts(ctx.redis, ctx.keys, new Date())]);
  if (args.includes('--json')) {
    io.stdout(`${JSON.stringify(all, null, 2)}\n`);
    return EXIT.ok;
  }
  for (const c of conflicts) io.stdout(`ERROR: scheduler ${c.scheduler}: ${c.message}\n`);
  if (all.length === 0) {
    io.stdout('no schedules loaded (is the scheduler running?)\n');
    return EXIT.ok;
  }
  io.stdout(
    table(
      ['ID', 'AGENT', 'TICKERS', 'EVERY/CRON', 'SESSION', 'STATE', 'NEXT RUN', 'LAST'],
      all.map((s) => [s.id, s.agent, s.tickers.join(','), s.every ?? s.cron ?? '', s.market_hours, !s.enabled ? 'disabled' : s.paused ? `paused by ${s.pause?.by ?? '?'}` : 'active', s.enabled && !s.paused ? nyTime(s.next_run) : '—', s.last_run ? `${s.last_run.decision ?? s.last_run.status} ${s.last_run.ticker}` : '—']),
    ),
  );
  return EXIT.ok;
}

const localFile = (args: string[], io: CliIO) => args.find((a) => !a.startsWith('--')) ?? io.env.SCHEDULES_FILE ?? './schedules.yaml';

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
  summary: 'list schedules; show one (next runs, counts, today\'s slots); pause or resume one; diff or publish the schedule file',
  usage: USAGE,
  run: (args, io) => {
    const [sub, id] = args.filter((a, i) => !a.startsWith('--') && !['--note', '--next'].includes(args[i - 1] ?? ''));
    if (sub === 'diff' || sub === 'publish') {
      const rest = args.slice(args.indexOf(sub) + 1);
      return withCli(io, async (ctx) => {
        try {
          return sub === 'diff' ? await diff(rest, io, ctx) : await publish(rest, io, ctx);
        } catch (err) {
          if (!(err instanceof ScheduleFileError)) throw err;
          for (const issue of err.issues) io.stderr(`${formatIssue(issue)}\n`);
          return EXIT.failed;
        }
      });
    }
    if (sub && !['show', 'pause', 'resume'].includes(sub)) {
      io.stderr(`tradeloop schedules: unknown subcommand "${sub}"\nusage:\n${USAGE}\n`);
      return Promise.resolve(EXIT.usage);
    }
    if (sub && !id) {
      io.stderr(`usage: tradeloop schedules ${sub} <id>\n`);
      return Promise.resolve(EXIT.usage);
    }
    const next = Number(flag(args, '--next') ?? 5);
    if (!Number.isInteger(next) || next < 1 || next > MAX_NEXT_RUNS) {
      io.stderr(`tradeloop schedules: --next must be an integer 1..${MAX_NEXT_RUNS}\n`);
      return Promise.resolve(EXIT.usage);
    }
    return withCli(io, async (ctx) => {
      if (!sub) return list(args, io, ctx);
      const entry = (await readPublishedSchedules(ctx.redis, ctx.keys)).find((e) => e.id === id);
      if (!entry) {
        io.stderr(`no schedule "${id}" in the loaded schedule file\n`);
        return EXIT.failed;
      }
      if (sub === 'show') {
        const calendar = new MarketCalendar({ extraClosures: ctx.config.MARKET_CLOSURES });
        const detail = (await describeSchedule(ctx.redis, ctx.keys, ctx.queues, calendar, new Date(), entry.id, { next }))!;
        if (args.includes('--json')) io.stdout(`${JSON.stringify(detail, null, 2)}\n`);
        else printDetail(detail, io);
        return EXIT.ok;
      }
      const note = flag(args, '--note');
      if (note !== undefined && note.length > 500) {
        io.stderr('tradeloop schedules: --note is limited to 500 characters\n');
        return EXIT.usage;
      }
      const by = `${io.env.USER ?? userInfo().username}@${hostname()} (cli)`;
      const pause = await setSchedulePaused(ctx.redis, ctx.keys, entry.id, sub === 'pause', { by, note });
      if (args.includes('--json')) io.stdout(`${JSON.stringify({ schedule_id: entry.id, paused: sub === 'pause', pause })}\n`);
      else io.stdout(sub === 'pause' ? `schedule ${entry.id} paused by ${pause!.by}${pause!.note ? `: ${pause!.note}` : ''}\n` : `schedule ${entry.id} resumed\n`);
      return EXIT.ok;
    });
  },
};
export default command;

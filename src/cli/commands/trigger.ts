import { BUILTIN_AGENTS, cycleJobDataSchema, isRealCalendarDate, ownEntry, PRIORITY_QUEUE, TICKER_PATTERN } from '../../core/index.ts';
import { readPublishedAgents, readPublishedSchedules } from '../../scheduler/index.ts';
import { enqueueCycle, enqueueManualCycles, nyDate } from '../../tasks/index.ts';
import { EXIT, type CliCommand } from '../cli-command.ts';
import { CliExit, flag, secondsFlag, withCli } from '../cli-context.ts';
import { waitForJob } from '../wait-for-job.ts';

const command: CliCommand = {
  summary: 'run a cycle now for a schedule or an agent; prints the job id(s), with --wait the decision',
  usage:
    'tradeloop trigger <schedule-id|agent> [--ticker T] [--date YYYY-MM-DD] [--wait] [--timeout SECONDS] [--json]\n' +
    '  a schedule id runs all its tickers (or --ticker); an agent needs --ticker\n' +
    '  --date analyses a past session as of its close (point in time; fills no live paper ledger)\n' +
    '  exit 0 ok, 1 a cycle failed or timed out, 2 bad usage, 3 Redis unreachable',
  run: (args, io) => {
    const target = args.find((a, i) => !a.startsWith('--') && !['--ticker', '--timeout', '--date'].includes(args[i - 1] ?? ''));
    if (!target) {
      io.stderr('usage: tradeloop trigger <schedule-id|agent> [--ticker T] [--wait]\n');
      return Promise.resolve(EXIT.usage);
    }
    const ticker = flag(args, '--ticker')?.toUpperCase();
    if (ticker && !TICKER_PATTERN.test(ticker)) {
      io.stderr(`tradeloop trigger: "${ticker}" is not a ticker symbol\n`);
      return Promise.resolve(EXIT.usage);
    }
    const timeout = secondsFlag(args, '--timeout', 120);
    if ('error' in timeout) {
      io.stderr(`tradeloop trigger: ${timeout.error}\n`);
      return Promise.resolve(EXIT.usage);
    }
    const timeoutS = timeout.seconds;
    const date = flag(args, '--date');
    const now = new Date();
    if (date !== undefined) {
      const today = nyDate(now.getTime());
      const why = !isRealCalendarDate(date) ? 'is not a real calendar date (YYYY-MM-DD)' : date > today ? `is in the future (today is ${today} in New York)` : null;
      if (why) {
        io.stderr(`tradeloop trigger: --date ${date} ${why}\n`);
        return Promise.resolve(EXIT.usage);
      }
    }
    return withCli(io, async (ctx) => {
      const schedule = (await readPublishedSchedules(ctx.redis, ctx.keys)).find((s) => s.id === target);
      const agents = { ...BUILTIN_AGENTS, ...(await readPublishedAgents(ctx.redis, ctx.keys)) };
      let ids: string[];
      if (schedule) {
        if (ticker && !schedule.tickers.includes(ticker)) throw new CliExit(EXIT.usage, `${ticker} is not in schedule ${schedule.id} (${schedule.tickers.join(', ')})`);
        const profile = ownEntry(agents, schedule.agent);
        if (!profile) throw new CliExit(EXIT.failed, `agent ${schedule.agent} is not loaded`);
        ids = await enqueueManualCycles(ctx, schedule, profile, ticker ? [ticker] : schedule.tickers, now, date, ctx.config);
      } else if (ownEntry(agents, target)) {
        if (!ticker) throw new CliExit(EXIT.usage, `${target} is an agent: say which ticker with --ticker`);
        const data = cycleJobDataSchema.parse({ agent: target, ticker, trigger: 'manual', requested_at: now.toISOString(), date: date ?? nyDate(now.getTime()), profile: agents[target], overlap: 'allow' });
        ids = [(await enqueueCycle(ctx.queues, PRIORITY_QUEUE, data, ctx, ctx.config)).job_id];
      } else {
        throw new CliExit(EXIT.usage, `"${target}" is neither a loaded schedule nor an agent (agents: ${Object.keys(agents).sort().join(', ')})`);
      }
      const json = args.includes('--json');
      if (!args.includes('--wait')) {
        io.stdout(json ? `${JSON.stringify({ job_ids: ids })}\n` : ids.join('\n') + '\n');
        return EXIT.ok;
      }
      let code: number = EXIT.ok;
      const results = [];
      for (const id of ids) {
        const r = await waitForJob(ctx, id, timeoutS * 1000);
        results.push({ job_id: id, status: r.timedOut ? 'timeout' : r.view?.status, decision: r.decision, confidence: r.confidence, error: r.view?.error ?? r.view?.reason });
        if (r.timedOut || r.view?.status !== 'completed') code = EXIT.failed;
      }
      if (json) io.stdout(`${JSON.stringify(results)}\n`);
      else for (const r of results) io.stdout(`${r.job_id} ${r.status}${r.decision ? ` ${r.decision} (confidence ${r.confidence})` : ''}${r.error ? ` — ${r.error}` : ''}\n`);
      return code;
    });
  },
};
export default command;

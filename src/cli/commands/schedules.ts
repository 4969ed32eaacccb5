import { MarketCalendar } from '../../calendar/index.ts';
import { describeSchedules } from '../../scheduler/index.ts';
import { EXIT, type CliCommand } from '../cli-command.ts';
import { nyTime, table, withCli } from '../cli-context.ts';

const command: CliCommand = {
  summary: 'list schedules with their next runs (New York time), paused state and last decision',
  usage: 'tradeloop schedules [--json]',
  run: (args, io) =>
    withCli(io, async (ctx) => {
      const calendar = new MarketCalendar({ extraClosures: ctx.config.MARKET_CLOSURES });
      const list = await describeSchedules(ctx.redis, ctx.keys, ctx.queues, calendar, new Date());
      if (args.includes('--json')) {
        io.stdout(`${JSON.stringify(list, null, 2)}\n`);
        return EXIT.ok;
      }
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
    }),
};
export default command;

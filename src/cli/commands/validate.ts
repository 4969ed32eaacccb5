import { formatIssue, loadScheduleFile, ScheduleFileError } from '../../scheduler/index.ts';
import { EXIT, type CliCommand } from '../cli-command.ts';

const command: CliCommand = {
  summary: 'check a schedule file and print every problem as file:line:column field: reason',
  usage: 'tradeloop validate [file] [--json]\n  file defaults to $SCHEDULES_FILE or ./schedules.yaml',
  async run(args, io) {
    const json = args.includes('--json');
    const file = args.find((a) => !a.startsWith('--')) ?? io.env.SCHEDULES_FILE ?? './schedules.yaml';
    try {
      const set = await loadScheduleFile(file);
      const pairs = set.schedules.reduce((n, s) => n + s.tickers.length, 0);
      if (json) io.stdout(`${JSON.stringify({ file, ok: true, schedules: set.schedules.length, pairs, agents: Object.keys(set.agents).sort() })}\n`);
      else io.stdout(`${file}: OK — ${set.schedules.length} schedule(s), ${pairs} schedule/ticker pair(s), agents: ${Object.keys(set.agents).sort().join(', ')}\n`);
      return EXIT.ok;
    } catch (err) {
      if (!(err instanceof ScheduleFileError)) throw err;
      if (json) io.stdout(`${JSON.stringify({ file, ok: false, issues: err.issues })}\n`);
      else {
        for (const issue of err.issues) io.stderr(`${formatIssue(issue)}\n`);
        io.stderr(`${file}: ${err.issues.length} problem(s)\n`);
      }
      return EXIT.failed;
    }
  },
};
export default command;

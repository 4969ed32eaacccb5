import { loadDotEnv } from '../core/index.ts';
import { formatIssue, loadScheduleFile, ScheduleFileError } from '../scheduler/index.ts';

const [command, ...args] = process.argv.slice(2);
loadDotEnv();

async function validate(file: string): Promise<number> {
  try {
    const set = await loadScheduleFile(file);
    const pairs = set.schedules.reduce((n, s) => n + s.tickers.length, 0);
    process.stdout.write(`${file}: OK — ${set.schedules.length} schedule(s), ${pairs} schedule/ticker pair(s), agents: ${Object.keys(set.agents).sort().join(', ')}\n`);
    return 0;
  } catch (err) {
    if (!(err instanceof ScheduleFileError)) throw err;
    for (const issue of err.issues) process.stderr.write(`${formatIssue(issue)}\n`);
    process.stderr.write(`${file}: ${err.issues.length} problem(s)\n`);
    return 1;
  }
}

switch (command) {
  case 'validate':
    process.exitCode = await validate(args[0] ?? process.env.SCHEDULES_FILE ?? './schedules.yaml');
    break;
  default:
    process.stdout.write('usage: tradeloop validate [file]\n');
    process.exitCode = command ? 2 : 0;
}

import { runCli } from './index.ts';

// A reader that stops early (`tradeloop jobs | head`) closes the pipe: end quietly, as Unix tools do, not with a stack trace.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err;
  process.exit(process.exitCode ?? 0);
});

process.exitCode = await runCli(process.argv.slice(2));

import { BUILTIN_AGENTS, cycleJobDataSchema, PRIORITY_QUEUE } from '../../core/index.ts';
import { enqueueCycle, nyDate, readWorkers } from '../../tasks/index.ts';
import { EXIT, type CliCommand } from '../cli-command.ts';
import { secondsFlag, withCli } from '../cli-context.ts';
import { waitForJob } from '../wait-for-job.ts';

const command: CliCommand = {
  summary: 'send a heartbeat cycle (quant, SPY, priority queue) and wait for its decision',
  usage: 'tradeloop test [--timeout SECONDS] [--json]\n  exit 0 on a decision, 1 on failure or time-out, 2 bad usage, 3 Redis unreachable',
  run: (args, io) => {
    // Checked before a cycle is sent: a bad timeout must not leave a job behind.
    const timeout = secondsFlag(args, '--timeout', 60);
    if ('error' in timeout) {
      io.stderr(`tradeloop test: ${timeout.error}\n`);
      return Promise.resolve(EXIT.usage);
    }
    return withCli(io, async (ctx) => {
      const online = (await readWorkers(ctx.redis, ctx.keys)).filter((w) => w.online && w.queues.includes(PRIORITY_QUEUE)).length;
      if (!online) io.stderr(`warning: no worker serving ${PRIORITY_QUEUE} is online; the cycle will wait for one\n`);
      const now = new Date();
      const data = cycleJobDataSchema.parse({ agent: 'quant', ticker: 'SPY', trigger: 'manual', requested_at: now.toISOString(), date: nyDate(now.getTime()), profile: BUILTIN_AGENTS.quant, overlap: 'allow' });
      const job = await enqueueCycle(ctx.queues, PRIORITY_QUEUE, data, ctx);
      const started = Date.now();
      const r = await waitForJob(ctx, job.job_id, timeout.seconds * 1000);
      const ok = !r.timedOut && r.view?.status === 'completed';
      const summary = { job_id: job.job_id, ok, status: r.timedOut ? 'timeout' : r.view?.status, decision: r.decision, ms: Date.now() - started, error: r.view?.error };
      if (args.includes('--json')) io.stdout(`${JSON.stringify(summary)}\n`);
      else io.stdout(ok ? `ok: ${job.job_id} → ${r.decision} in ${summary.ms} ms\n` : `FAILED: ${job.job_id} ${summary.status}${summary.error ? ` — ${summary.error}` : ''}\n`);
      return ok ? EXIT.ok : EXIT.failed;
    });
  },
};
export default command;

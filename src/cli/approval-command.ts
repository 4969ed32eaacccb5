import { hostname, userInfo } from 'node:os';
import { decideApproval } from '../tasks/index.ts';
import { EXIT, type CliCommand } from './cli-command.ts';
import { flag, withCli } from './cli-context.ts';

/** `tradeloop approve|reject <job_id> [--note TEXT]`: settles a decision held for approval. */
export function approvalCommand(action: 'approve' | 'reject'): CliCommand {
  return {
    summary: action === 'approve' ? 'approve a decision held for approval: fills the paper ledger at its price' : 'reject a decision held for approval: nothing is filled',
    usage: `tradeloop ${action} <job_id> [--note TEXT] [--json]\n  exit 0 settled, 1 no held decision or already settled, 3 Redis unreachable`,
    run: (args, io) => {
      const id = args.find((a, i) => !a.startsWith('--') && args[i - 1] !== '--note');
      if (!id) {
        io.stderr(`usage: tradeloop ${action} <job_id> [--note TEXT]\n`);
        return Promise.resolve(EXIT.usage);
      }
      return withCli(io, async (ctx) => {
        const by = `${io.env.USER ?? userInfo().username}@${hostname()} (cli)`;
        const r = await decideApproval(ctx, id, action, { by, note: flag(args, '--note') });
        if (!r) {
          io.stderr(`no decision awaiting approval for job ${id}\n`);
          return EXIT.failed;
        }
        const a = r.approval;
        if (args.includes('--json')) io.stdout(`${JSON.stringify(a)}\n`);
        else if (r.outcome === 'refused') io.stderr(`decision of job ${id} is already ${a.status}\n`);
        else io.stdout(`${a.ticker} ${a.decision} @ ${a.price ?? '—'} ${a.status} by ${a.settled_by}${a.fill ? `: filled ${a.fill.side} ${a.fill.quantity} @ ${a.fill.price}` : ': no fill'}\n`);
        return r.outcome === 'settled' ? EXIT.ok : EXIT.failed;
      });
    },
  };
}

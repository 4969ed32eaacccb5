import { EXIT, type CliCommand, type CliIO } from './cli-command.ts';
import { withCli, type CliContext } from './cli-context.ts';

/**
 * A `tradeloop <name> <job_id> [--json]` command: the id is the first positional argument (usage
 * error, exit 2, without it), and the work runs with a Redis connection.
 */
export function jobIdCommand(spec: {
  name: string;
  summary: string;
  /** The exit codes' meaning, printed under the usage line. */
  exits: string;
  /** Extra options shown in the usage line (after the id). */
  options?: string;
  run: (ctx: CliContext, id: string, args: string[], io: CliIO) => Promise<number>;
}): CliCommand {
  const line = `tradeloop ${spec.name} <job_id>${spec.options ? ` ${spec.options}` : ''} [--json]`;
  return {
    summary: spec.summary,
    usage: `${line}\n  ${spec.exits}`,
    run: (args, io) => {
      const id = args.find((a) => !a.startsWith('--'));
      if (!id) {
        io.stderr(`usage: ${line}\n`);
        return Promise.resolve(EXIT.usage);
      }
      return withCli(io, (ctx) => spec.run(ctx, id, args, io));
    },
  };
}

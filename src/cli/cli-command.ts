/** The shape of one `tradeloop <command>`: a file in ./commands named after the command. */
export interface CliIO {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: NodeJS.ProcessEnv;
}

export interface CliCommand {
  /** One line for `tradeloop --help`. */
  summary: string;
  /** Full usage for `tradeloop <command> --help`. */
  usage: string;
  /** Returns the exit code: 0 ok, 1 the check/operation failed, 2 bad usage, 3 cannot reach Redis. */
  run(args: string[], io: CliIO): Promise<number>;
}

export const EXIT = { ok: 0, failed: 1, usage: 2, unavailable: 3 } as const;

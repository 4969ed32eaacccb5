/** The cli room: the `tradeloop` control commands. Its only door. */
export { runCli, loadCommand, commandNames, processIO } from './command-dispatch.ts';
export { EXIT, type CliCommand, type CliIO } from './cli-command.ts';

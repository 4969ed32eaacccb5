import { readdirSync } from 'node:fs';
import { loadDotEnv } from '../core/index.ts';
import { EXIT, type CliCommand, type CliIO } from './cli-command.ts';

/** `tradeloop <command> …`: each command is a module in ./commands named after it. */
const commandsDir = new URL('./commands/', import.meta.url);
const available = readdirSync(commandsDir)
  .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
  .map((f) => f.slice(0, -3))
  .sort();

export function commandNames(): string[] {
  return [...available];
}

export async function loadCommand(name: string): Promise<CliCommand> {
  if (!available.includes(name)) throw new Error(`unknown command "${name}"`);
  return ((await import(new URL(`${name}.ts`, commandsDir).href)) as { default: CliCommand }).default;
}

export const processIO: CliIO = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  env: process.env,
};

/** Runs one command line and answers its exit code; usage errors are exit 2, as in every command. */
export async function runCli(argv: string[], io: CliIO = processIO): Promise<number> {
  loadDotEnv();
  const [name, ...args] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    const lines = await Promise.all(available.map(async (n) => `  ${n.padEnd(10)} ${(await loadCommand(n)).summary}`));
    io.stdout(`usage: tradeloop <command> [options]   (tradeloop <command> --help for details)\n\ncommands:\n${lines.join('\n')}\n`);
    return name ? EXIT.ok : EXIT.usage;
  }
  if (!available.includes(name)) {
    io.stderr(`tradeloop: unknown command "${name}" (commands: ${available.join(', ')})\n`);
    return EXIT.usage;
  }
  const command = await loadCommand(name);
  if (args.includes('--help') || args.includes('-h')) {
    io.stdout(`usage: ${command.usage}\n`);
    return EXIT.ok;
  }
  const unknown = unknownOption(command, args);
  if (unknown) {
    const known = optionsOf(command);
    io.stderr(`tradeloop ${name}: unknown option ${unknown} (${known.length ? `options: ${known.join(', ')}` : 'it takes no options'}; tradeloop ${name} --help)\n`);
    return EXIT.usage;
  }
  const bare = optionWithoutValue(command, args);
  if (bare) {
    io.stderr(`tradeloop ${name}: ${bare} needs a value (tradeloop ${name} --help)\n`);
    return EXIT.usage;
  }
  return command.run(args, io);
}

/** Options the usage shows with a value (`--limit N`, `--role a|b`): given bare they must not fall back to a default. */
function valueOptionsOf(command: CliCommand): Set<string> {
  return new Set([...command.usage.matchAll(/(--[a-z][a-z-]*) (?=[A-Z<]|[a-z]+\|)/g)].map((m) => m[1]!));
}

function optionWithoutValue(command: CliCommand, args: string[]): string | undefined {
  const valued = valueOptionsOf(command);
  return args.find((a, i) => valued.has(a) && args[i - 1] !== '--note' && (args[i + 1] === undefined || (a !== '--note' && args[i + 1]!.startsWith('--'))));
}

/** The options a command's usage names: what it accepts (a mistyped one must not be ignored silently). */
function optionsOf(command: CliCommand): string[] {
  return [...new Set(command.usage.match(/--[a-z][a-z-]*/g) ?? [])];
}

/** The first `--option` the command does not take; free text after `--note` may start with dashes. */
function unknownOption(command: CliCommand, args: string[]): string | undefined {
  const known = new Set(optionsOf(command));
  return args.find((a, i) => a.startsWith('--') && !known.has(a) && args[i - 1] !== '--note');
}

/**
 * `@sgv4/cli`: the `sgv4` command. Use it as a program (`sgv4 --help`) or call
 * {@link runCli} to run a command line in-process.
 * @module
 */
export { commands, rootCommand } from './commands/index.js';
export type { Command, CommandIO, CommandResult, OptionSpec } from './framework/command.js';
export { Invocation, parseIntegerArgument, type RawValue } from './framework/invocation.js';
export { UsageError } from './framework/usage-error.js';
export { runCli } from './run-cli.js';

/** Programmatic entry point of the `sgv4` command. */
import { rootCommand } from './commands/index.js';
import type { CommandIO } from './framework/command.js';
import { dispatch } from './framework/dispatch.js';
import { cliVersion } from './version.js';

/** Runs `sgv4 <argv...>` with output on `io`; resolves to the exit status (sg3_utils categories). */
export function runCli(argv: readonly string[], io: CommandIO): Promise<number> {
  return dispatch(rootCommand, argv, io, cliVersion);
}

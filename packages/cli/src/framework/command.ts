/**
 * The shape of an `sgv4` subcommand. Each command is a value in its own file
 * under `commands/`; the dispatcher parses arguments, prints help and turns
 * outcomes into sg3_utils-style exit statuses, so commands only do their job.
 */
import type { Writable } from 'node:stream';
import type { Invocation } from './invocation.js';

/** One `--option` of a command. */
export interface OptionSpec {
  /** `string` options take a value; `boolean` options are flags. */
  readonly type: 'string' | 'boolean';
  /** One-letter alias (`-t`). */
  readonly short?: string;
  /** The option may repeat; its values are collected in order. */
  readonly multiple?: boolean;
  /** Placeholder shown in help for the value (`MS`, `FILE`). */
  readonly valueName?: string;
  /** One line for `--help`, defaults included in prose. */
  readonly description: string;
}

/** Where a command writes; tests pass in-memory streams. */
export interface CommandIO {
  /** Data output (text or JSON). */
  readonly stdout: Writable;
  /** Progress, warnings and the one-line error. */
  readonly stderr: Writable;
}

/** A command's result: its exit status (0 when it returns nothing). */
export type CommandResult = number | undefined;

/** An `sgv4` command or command group. */
export interface Command {
  /** The word that selects it (`limits`, `lab`, `setup`). */
  readonly name: string;
  /** One line for the command list. */
  readonly summary: string;
  /** Argument synopsis after the command path (`<device> <cdb-hex...> [--in LEN]`). */
  readonly usage?: string;
  /** Longer help text: what it does, examples. */
  readonly details?: string;
  /** Its options (`--help` is always added, `--json` when {@link Command.json} is set). */
  readonly options?: Readonly<Record<string, OptionSpec>>;
  /** The command prints data and accepts `--json` for stable, documented field names. */
  readonly json?: boolean;
  /** Allowed number of positional arguments (default: none). */
  readonly positionals?: { readonly min: number; readonly max: number };
  /** Subcommands, for a group such as `sgv4 lab ...`. */
  readonly subcommands?: readonly Command[];
  /** Runs the command; absent for a pure group. */
  readonly run?: (invocation: Invocation, io: CommandIO) => CommandResult | Promise<CommandResult>;
}

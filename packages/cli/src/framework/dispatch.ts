/**
 * The dispatcher: finds the command named by the leading words, parses its
 * options strictly (node:util parseArgs), prints help or version, runs it and
 * converts the outcome into an exit status. It never throws.
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';
import type { Command, CommandIO } from './command.js';
import { errorRecord, exitStatusOf, oneLineMessage } from './exit-status.js';
import { renderHelp } from './help.js';
import { Invocation } from './invocation.js';
import { printJson } from './output.js';
import { UsageError } from './usage-error.js';

/** Runs `sgv4 <argv...>` against the command tree rooted at `root`; resolves to the exit status. */
export async function dispatch(
  root: Command,
  argv: readonly string[],
  io: CommandIO,
  version: string,
): Promise<number> {
  const path: string[] = [];
  let command = root;
  let rest = [...argv];
  // Descend while the next word names a subcommand (never past a literal `--`).
  while (rest.length > 0 && rest[0] !== '--' && command.subcommands) {
    const next = command.subcommands.find((c) => c.name === rest[0]);
    if (!next) break;
    path.push(next.name);
    command = next;
    rest = rest.slice(1);
  }
  const where = ['sgv4', ...path].join(' ');
  let json = false;
  try {
    // Everything after a literal `--` belongs to someone else (`sgv4 lab run -- sg_raw -h`): untouched.
    const dashDash = rest.indexOf('--');
    const own = dashDash >= 0 ? rest.slice(0, dashDash) : rest;
    const passthrough = dashDash >= 0 ? rest.slice(dashDash + 1) : [];
    if (path.length === 0 && (own[0] === '--version' || own[0] === '-V')) {
      io.stdout.write(`${version}\n`);
      return 0;
    }
    if (own.includes('--help') || own.includes('-h') || (path.length === 0 && own[0] === 'help')) {
      io.stdout.write(renderHelp(path, command));
      return 0;
    }
    if (!command.run) {
      const names = (command.subcommands ?? []).map((c) => c.name).join(', ');
      throw new UsageError(
        rest.length === 0
          ? `missing command (one of: ${names})`
          : `unknown command '${rest[0]}' (one of: ${names})`,
      );
    }
    const options: NonNullable<ParseArgsConfig['options']> = {};
    for (const [name, spec] of Object.entries(command.options ?? {})) {
      options[name] = {
        type: spec.type,
        ...(spec.short ? { short: spec.short } : {}),
        ...(spec.multiple ? { multiple: true } : {}),
      };
    }
    if (command.json) options.json = { type: 'boolean' };
    let parsed: ReturnType<typeof parseArgs>;
    try {
      parsed = parseArgs({ args: own, options, allowPositionals: true, strict: true });
    } catch (error) {
      throw new UsageError(oneLineMessage(error).replace(/\. To specify a positional.*$/, ''));
    }
    json = parsed.values.json === true;
    const { min, max } = command.positionals ?? { min: 0, max: 0 };
    if (parsed.positionals.length < min) {
      throw new UsageError(
        `missing argument${command.usage ? `: usage is '${where} ${command.usage}'` : ''}`,
      );
    }
    if (parsed.positionals.length > max) {
      throw new UsageError(`unexpected argument '${parsed.positionals[max]}'`);
    }
    const invocation = new Invocation(path, parsed.values, parsed.positionals, passthrough);
    return (await command.run(invocation, io)) ?? 0;
  } catch (error) {
    const status = exitStatusOf(error);
    if (json) printJson(io, { error: errorRecord(error) });
    io.stderr.write(`${where}: ${oneLineMessage(error)}\n`);
    if (error instanceof UsageError) io.stderr.write(`Try '${where} --help'.\n`);
    return status;
  }
}

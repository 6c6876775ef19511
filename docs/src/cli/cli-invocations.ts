/**
 * Checks an `sgv4 ...` command line from a guide against the CLI's command tree, the way the
 * dispatcher would parse it (packages/cli/src/framework/dispatch.ts): the words name a
 * command that runs (or end at a group with `--help`), every option exists, values are given
 * to options that take one, and the positional count fits. A renamed command or option then
 * fails the docs test instead of leaving the guides wrong.
 *
 * Synopsis words are allowed: `<device>`, `[--json]` (the option inside is checked), `...`.
 * @module
 */
import { parseArgs } from 'node:util';
import type { Command } from '@sgv4/cli';

/** Words that start an sgv4 invocation: the installed binary, the checkout's wrapper, the built CLI. */
const PROGRAMS = new Set(['sgv4', './scripts/sgv4', 'scripts/sgv4']);

/** The arguments after the program name when `words` is an sgv4 invocation, else undefined. */
export function sgv4Arguments(words: readonly string[]): string[] | undefined {
  const [first, second, ...rest] = words;
  if (first === undefined) return undefined;
  if (PROGRAMS.has(first)) return words.slice(1);
  if (first === 'node' && second !== undefined && /(^|\/)packages\/cli\/dist\/main\.js$/.test(second))
    return rest;
  return undefined;
}

function isPlaceholder(word: string): boolean {
  return /^<.*>$/.test(word) || /^\[.*\]$/.test(word) || word === '...' || /^<.*>\.\.\.$/.test(word);
}

/** The command path a list of arguments selects, and the arguments left. */
export function resolveCommand(
  root: Command,
  args: readonly string[],
): { readonly path: string[]; readonly command: Command; readonly rest: string[] } {
  const path: string[] = [];
  let command = root;
  let rest = [...args];
  while (rest.length > 0 && command.subcommands) {
    const next = command.subcommands.find((c) => c.name === rest[0]);
    if (next === undefined) break;
    path.push(next.name);
    command = next;
    rest = rest.slice(1);
  }
  return { path, command, rest };
}

/** What is wrong with `sgv4 <args...>`, or undefined when the CLI would accept it. */
export function checkInvocation(root: Command, args: readonly string[]): string | undefined {
  const { path, command, rest } = resolveCommand(root, args);
  const where = ['sgv4', ...path].join(' ');
  if (path.length === 0 && (rest[0] === '--version' || rest[0] === '-V' || rest[0] === 'help'))
    return undefined;
  if (rest.includes('--help') || rest.includes('-h')) return undefined;
  if (command.run === undefined) {
    const names = (command.subcommands ?? []).map((c) => c.name).join(', ');
    if (rest.length > 0 && isPlaceholder(rest[0] ?? '')) return undefined; // `sgv4 lab <command>`
    return rest.length === 0
      ? `'${where}' needs a command (one of: ${names})`
      : `'${where}' has no command '${rest[0]}' (one of: ${names})`;
  }
  const dashDash = rest.indexOf('--');
  const own = (dashDash >= 0 ? rest.slice(0, dashDash) : rest)
    // `[--json]` documents an optional option: check the option itself.
    .map((w) => (/^\[-[^\]]*\]$/.test(w) ? (w.slice(1, -1).split(/\s+/)[0] ?? w) : w));
  const placeholders = own.some(isPlaceholder);
  const options: NonNullable<Parameters<typeof parseArgs>[0]>['options'] = {};
  for (const [name, spec] of Object.entries(command.options ?? {})) {
    options[name] = {
      type: spec.type,
      ...(spec.short ? { short: spec.short } : {}),
      ...(spec.multiple ? { multiple: true } : {}),
    };
  }
  if (command.json) options.json = { type: 'boolean' };
  let positionals: string[];
  try {
    positionals = parseArgs({ args: own, options, allowPositionals: true, strict: true }).positionals;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return `'${where}': ${message.split('\n')[0]?.replace(/\. To specify a positional.*$/, '')}`;
  }
  if (placeholders) return undefined;
  const { min, max } = command.positionals ?? { min: 0, max: 0 };
  if (positionals.length < min)
    return `'${where}' needs at least ${min} argument(s)${command.usage ? ` (${command.usage})` : ''}`;
  if (positionals.length > max)
    return `'${where}' takes at most ${max} argument(s), got '${positionals[max]}'`;
  return undefined;
}

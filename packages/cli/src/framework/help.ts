/** Renders `--help` for a command or group. */
import type { Command } from './command.js';
import { formatTable } from './output.js';

/** Help text for `sgv4 <path...>` whose last element is `command`. */
export function renderHelp(path: readonly string[], command: Command): string {
  const full = ['sgv4', ...path].join(' ');
  const lines: string[] = [];
  const sub = command.subcommands ?? [];
  lines.push(
    `Usage: ${full}${sub.length > 0 && !command.run ? ' <command>' : ''}${command.usage ? ` ${command.usage}` : ''}`,
  );
  lines.push('', command.summary);
  if (command.details) lines.push('', command.details.trimEnd());
  if (sub.length > 0) {
    lines.push('', 'Commands:');
    for (const row of formatTable(sub.map((c) => [`  ${c.name}`, c.summary]))) lines.push(row);
  }
  const options: [string, string][] = Object.entries(command.options ?? {}).map(([name, spec]) => [
    `  ${spec.short ? `-${spec.short}, ` : ''}--${name}${spec.type === 'string' ? ` ${spec.valueName ?? 'VALUE'}` : ''}`,
    spec.description,
  ]);
  if (command.json)
    options.push(['  --json', 'print one JSON document (stable field names; see docs/guides/cli.md)']);
  options.push(['  -h, --help', 'show this help']);
  if (path.length === 0) options.push(['  -V, --version', 'print the version']);
  lines.push('', 'Options:');
  for (const row of formatTable(options)) lines.push(row);
  if (sub.length > 0) lines.push('', `Run '${full} <command> --help' for a command's options.`);
  return `${lines.join('\n')}\n`;
}

/**
 * A permission table as a text file in the cmdfilter format: the two sysfs attributes,
 * plus the table it starts from. This is what `sgv4 perm --table FILE` reads and
 * `sgv4 perm --table NAME --print` writes.
 *
 * ```
 * # comment
 * name: my-table
 * base: linux-6.1          (a built-in table, or "none" for empty bitmaps)
 * read_table: 0x00 0x03 ... (tokens as written to sysfs: applied to the base's bitmap)
 * write_table: +0x85 -0x04
 * ```
 * @module
 */
import { InvalidFieldError } from '../errors/index.js';
import { showCmdFilter, storeCmdFilter } from './cmdfilter-format.js';
import { PermissionTable } from './permission-table.js';
import { builtInPermissionTable } from './tables/built-in.js';

const EMPTY_BASE = 'none';

/** Prints `table` as a self-contained cmdfilter document (`base: none`, full bitmaps). */
export function formatCmdFilterDocument(table: PermissionTable): string {
  const lines = [
    `# ${table.name}: ${table.description}`,
    `name: ${table.name}`,
    `base: ${EMPTY_BASE}`,
    `read_table: ${showCmdFilter(table.readTable()).trim()}`,
    `write_table: ${showCmdFilter(table.writeTable()).trim()}`,
  ];
  if (table.refinements().length > 0) {
    lines.push(
      `# ${table.refinements().length} service-action/device-type refinements are not expressible in this format.`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Parses a cmdfilter document. `base` (default linux-6.1) supplies the starting bitmaps,
 * names and refinements; each `read_table:`/`write_table:` line is applied to them with
 * the kernel's store rules ({@link storeCmdFilter}, value trimmed). Unknown keys, a
 * missing colon or an unknown base are InvalidFieldErrors naming the line; bad tokens
 * are CmdFilterSyntaxErrors (EINVAL).
 */
export function parseCmdFilterDocument(text: string, fallbackName = 'cmdfilter'): PermissionTable {
  let name = fallbackName;
  let baseName = 'linux-6.1';
  const edits: { attribute: 'read_table' | 'write_table'; value: string }[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const colon = line.indexOf(':');
    const field = `line ${i + 1}`;
    if (colon < 0) throw new InvalidFieldError(field, 'must be "key: value"', raw);
    const key = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (key === 'name') {
      if (value === '') throw new InvalidFieldError(field, 'name must not be empty', raw);
      name = value;
    } else if (key === 'base') baseName = value;
    else if (key === 'read_table' || key === 'write_table') edits.push({ attribute: key, value });
    else throw new InvalidFieldError(field, 'key must be name, base, read_table or write_table', key);
  });
  const base = baseName === EMPTY_BASE ? undefined : builtInPermissionTable(baseName, 'base');
  let readOk = base?.readTable() ?? [];
  let writeOk = base?.writeTable() ?? [];
  for (const edit of edits) {
    if (edit.value === '') continue;
    if (edit.attribute === 'read_table') readOk = storeCmdFilter('read_table', edit.value, readOk);
    else writeOk = storeCmdFilter('write_table', edit.value, writeOk);
  }
  if (base) return base.withBitmaps(readOk, writeOk, name);
  return new PermissionTable({
    name,
    description: 'Table read from a cmdfilter document with no base.',
    readOk,
    writeOk,
    names: {},
  });
}

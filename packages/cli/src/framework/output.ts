/**
 * Printing: plain lines and the `--json` document. JSON output has stable
 * field names; bigints print as decimal strings and byte arrays as lowercase
 * hex strings, so every value survives `JSON.parse` exactly.
 */
import type { CommandIO } from './command.js';

/** Writes one line of text to stdout. */
export function printLine(io: CommandIO, line = ''): void {
  io.stdout.write(`${line}\n`);
}

/** JSON.stringify replacer: bigint -> decimal string, bytes -> hex string. */
export function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Uint8Array)
    return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex');
  return value;
}

/** Writes `value` as one pretty-printed JSON document on stdout. */
export function printJson(io: CommandIO, value: unknown): void {
  io.stdout.write(`${JSON.stringify(value, jsonReplacer, 2)}\n`);
}

/** Lays out rows as aligned columns (first row = header). */
export function formatTable(rows: readonly (readonly string[])[]): string[] {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  }
  return rows.map((row) =>
    row
      .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd(),
  );
}

/**
 * Hex bytes from command-line arguments, the way sg3_utils tools take them
 * (`sg_raw /dev/sg0 12 00 00 00 24 00`): tokens separated by spaces, commas or
 * colons, an optional 0x prefix, a one- or two-digit token is one byte and a
 * longer even-length token is several bytes (`120000002400`).
 */
import { UsageError } from './usage-error.js';

/**
 * Parses `args` into bytes; `what` names the argument in errors (`<cdb-hex>`,
 * `the sense data`). At most `maxBytes` bytes; at least one.
 */
export function parseHexArguments(what: string, args: readonly string[], maxBytes = 4096): Uint8Array {
  const tokens = args
    .join(' ')
    .replace(/0x/gi, ' ')
    .split(/[\s,:]+/)
    .filter((t) => t !== '');
  const bytes: number[] = [];
  for (const token of tokens) {
    if (!/^[0-9a-f]+$/i.test(token)) throw new UsageError(`${what}: '${token}' is not hexadecimal`);
    if (token.length > 2 && token.length % 2 !== 0) {
      throw new UsageError(`${what}: '${token}' has an odd number of hex digits`);
    }
    for (let i = 0; i < token.length; i += 2) bytes.push(Number.parseInt(token.slice(i, i + 2), 16));
  }
  if (bytes.length === 0) throw new UsageError(`${what}: no bytes given`);
  if (bytes.length > maxBytes) throw new UsageError(`${what}: ${bytes.length} bytes, at most ${maxBytes}`);
  return Uint8Array.from(bytes);
}

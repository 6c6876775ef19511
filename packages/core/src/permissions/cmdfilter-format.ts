/**
 * The old sysfs command-filter text format: `/sys/block/<disk>/cmd_filter/read_table` and
 * `write_table` (block/cmd-filter.c, `rcf_cmds_show` / `rcf_cmds_store`, ~2.6.25..2.6.30).
 * @module
 */

import { hexByte } from '../format/index.js';
import { CmdFilterSyntaxError } from './permission-errors.js';

/** The two sysfs attributes. */
export type CmdFilterAttribute = 'read_table' | 'write_table';

/**
 * What reading the attribute printed (`rcf_cmds_show`): each set opcode as `0x%02x`
 * followed by a space (except 0xff), then a newline if anything was printed. So the text
 * ends in `" \n"`; writing it back verbatim would fail (see {@link storeCmdFilter}).
 */
export function showCmdFilter(opcodes: readonly number[]): string {
  const sorted = [...new Set(opcodes)].sort((a, b) => a - b);
  let out = '';
  for (const op of sorted) {
    out += hexByte(op);
    if (op < 0xff) out += ' ';
  }
  return out === '' ? '' : `${out}\n`;
}

const HEX_DIGIT = /^[0-9a-fA-F]$/;

/**
 * What writing `text` to the attribute did (`rcf_cmds_store`), starting from `current`:
 * the text is split at every single space (`strsep`); each token may start with `+` (set,
 * also the default) or `-` (clear); the rest is parsed like `simple_strtol(p, &end, 16)`:
 * an optional `0x`/`0X` prefix is skipped, hex digits are read and anything after them is
 * ignored (so `"0x28\n"` and `"28h"` both mean 0x28, and a bare `"0x"` means 0, as in
 * the kernel). A token with no digit where parsing starts (an empty token from two
 * spaces, or the `"\n"` after a trailing space) or a value above 0xff fails the whole
 * write with EINVAL, leaving the table unchanged: a {@link CmdFilterSyntaxError}.
 * Deliberately stricter than Linux: a negative value (`"+-5"`), which the kernel passed
 * to `__set_bit` unchecked, is rejected too.
 */
export function storeCmdFilter(
  attribute: CmdFilterAttribute,
  text: string,
  current: readonly number[],
): number[] {
  const bits = new Uint8Array(256);
  for (const op of current) bits[op & 0xff] = 1;
  text.split(' ').forEach((token, index) => {
    let p = token;
    let set = true;
    if (p.startsWith('+')) p = p.slice(1);
    else if (p.startsWith('-')) {
      set = false;
      p = p.slice(1);
    }
    // simple_strtol: a '-' negates; simple_strtoull skips a 0x prefix and reads hex digits.
    const negative = p.startsWith('-');
    const start = negative ? 1 : 0;
    const prefixed = p[start] === '0' && (p[start + 1] === 'x' || p[start + 1] === 'X');
    const digitsFrom = start + (prefixed ? 2 : 0);
    let end = digitsFrom;
    while (end < p.length && HEX_DIGIT.test(p[end] ?? '')) end++;
    if (end === 0) {
      throw new CmdFilterSyntaxError(
        attribute,
        'must be a hex opcode, optionally prefixed by + or -',
        token,
        index,
      );
    }
    const digits = p.slice(digitsFrom, end);
    const value = digits === '' ? 0 : Number.parseInt(digits, 16);
    if (negative && value !== 0) {
      throw new CmdFilterSyntaxError(attribute, 'opcode must not be negative', token, index);
    }
    if (value > 0xff) {
      throw new CmdFilterSyntaxError(attribute, 'opcode must be in 0x00..0xff', token, index);
    }
    bits[value] = set ? 1 : 0;
  });
  const out: number[] = [];
  for (let op = 0; op < 256; op++) if (bits[op]) out.push(op);
  return out;
}

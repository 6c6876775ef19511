/**
 * Text for an (ASC, ASCQ) pair, by the same rules as sg3_utils' `sg_get_asc_ascq_str()`
 * (lib/sg_lib.c): an exact T10 entry, else a T10 range entry (ASCQ substituted), else a
 * generic "ASC=xx, ASCQ=yy (hex)" that says which half is vendor specific.
 * @module
 */

import { hexDigits } from '../format/index.js';
import { ASC_ASCQ_RANGES, ASC_ASCQ_TABLE } from './asc-ascq.gen.js';

let exact: Map<number, string> | undefined;

function table(): Map<number, string> {
  exact ??= new Map(ASC_ASCQ_TABLE.map(([asc, ascq, text]) => [(asc << 8) | ascq, text]));
  return exact;
}

/** The T10 text only (exact pair or range), or undefined when T10 assigns none. */
export function lookupAscAscq(asc: number, ascq: number): string | undefined {
  const text = table().get(((asc & 0xff) << 8) | (ascq & 0xff));
  if (text !== undefined) return text;
  for (const [rAsc, min, max, template] of ASC_ASCQ_RANGES) {
    if (rAsc === asc && ascq >= min && ascq <= max) return template.replace('%x', ascq.toString(16));
  }
  return undefined;
}

/**
 * `Unrecovered read error` for (0x11, 0x00); for unassigned codes the sg3_utils wording:
 * `vendor specific ASC=99, ASCQ=85 (hex)` (ASC >= 0x80),
 * `ASC=24, vendor specific qualification ASCQ=85 (hex)` (ASCQ >= 0x80), else `ASC=24, ASCQ=33 (hex)`.
 */
export function ascAscqText(asc: number, ascq: number): string {
  const known = lookupAscAscq(asc, ascq);
  if (known !== undefined) return known;
  if (asc >= 0x80) return `vendor specific ASC=${hexDigits(asc)}, ASCQ=${hexDigits(ascq)} (hex)`;
  if (ascq >= 0x80)
    return `ASC=${hexDigits(asc)}, vendor specific qualification ASCQ=${hexDigits(ascq)} (hex)`;
  return `ASC=${hexDigits(asc)}, ASCQ=${hexDigits(ascq)} (hex)`;
}

/**
 * One-line sense summaries in the style people know from sg3_utils.
 * @module
 */
import type { DecodedSense } from './decoded-sense.js';
import { SenseKey } from './sense-keys.js';

/** Sense keys whose INFORMATION field is the first LBA in error (SBC-4 4.18). */
const LBA_KEYS: ReadonlySet<number> = new Set([
  SenseKey.RECOVERED_ERROR,
  SenseKey.MEDIUM_ERROR,
  SenseKey.HARDWARE_ERROR,
  SenseKey.ABORTED_COMMAND,
  SenseKey.MISCOMPARE,
]);

/**
 * `Medium Error: Unrecovered read error, lba 0x1234`: sense key, ASC/ASCQ text, then the
 * INFORMATION field (as `lba` for the keys where SBC says it is the LBA in error, else `info`)
 * and, for ILLEGAL REQUEST, the field pointer (`cdb byte 2 bit 7` / `parameter byte 4`).
 * Deferred errors start with `Deferred `.
 */
export function formatSenseLine(sense: DecodedSense): string {
  const parts = [`${sense.current ? '' : 'Deferred '}${sense.senseKeyName}: ${sense.ascText}`];
  if (sense.information !== undefined) {
    parts.push(`${LBA_KEYS.has(sense.senseKey) ? 'lba' : 'info'} 0x${sense.information.toString(16)}`);
  }
  const sks = sense.senseKeySpecific;
  if (sks?.kind === 'field-pointer') {
    const bit = sks.bitPointer === undefined ? '' : ` bit ${sks.bitPointer}`;
    parts.push(`${sks.inCdb ? 'cdb' : 'parameter'} byte ${sks.fieldPointer}${bit}`);
  } else if (sks?.kind === 'progress') {
    parts.push(`progress ${sks.percent}%`);
  }
  return parts.join(', ');
}

/**
 * Decodes SCSI sense data given as hex bytes and prints it the way sg3_utils does, then every
 * field the decoder found. Fixed (0x70/0x71) and descriptor (0x72/0x73) formats.
 *
 *     node examples/dist/decode-sense.js 70 00 03 00 00 00 00 0a 00 00 00 00 11 00 00 00 00 00
 */
// doctest: host f0 00 03 00 00 12 34 0a 00 00 00 00 11 00 00 00 00 00 => /^Medium Error: Unrecovered read error, lba 0x1234$/m
// doctest: host 72 05 24 00 00 00 00 00 => /^Illegal Request: Invalid field in cdb$/m
import { decodeSense, formatSenseLine, InvalidFieldError, Sgv4Error } from '@sgv4/core';

function parseHexBytes(words: readonly string[]): Uint8Array {
  const digits = words.join('').replace(/\s+/g, '');
  if (!/^([0-9a-fA-F]{2})+$/.test(digits)) {
    throw new InvalidFieldError('sense', 'must be hex bytes (two digits each)', words.join(' '));
  }
  return Uint8Array.from(digits.match(/../g) ?? [], (byte) => Number.parseInt(byte, 16));
}

try {
  const sense = decodeSense(parseHexBytes(process.argv.slice(2)));
  console.log(formatSenseLine(sense));
  console.log(sense);
} catch (error) {
  console.error(`decode-sense: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = error instanceof Sgv4Error ? error.exitStatus : 1;
}

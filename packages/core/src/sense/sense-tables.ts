/**
 * Field tables of sense data (SPC-6 4.4): the fixed format, the descriptor-format header and
 * the descriptors a device server commonly returns. {@link encodeSense} builds sense data
 * with them; the decoder reads the same layouts.
 * @module
 */
import type { FieldSpec, FieldTable } from '../cdb/field-table.js';

const int = (name: string, byte: number, width: number, bit = 0): FieldSpec => ({
  name,
  kind: 'int',
  byte,
  bit,
  width,
  description: '',
});
const flag = (name: string, byte: number, bit: number): FieldSpec => int(name, byte, 1, bit);
const table = (name: string, length: number, fields: FieldSpec[]): FieldTable =>
  Object.freeze({ name, length, fields: Object.freeze(fields) });

/**
 * Fixed format sense data (SPC-6 4.4.3), the 18 bytes with ADDITIONAL SENSE LENGTH 10.
 * `senseKeySpecific` is the 23 bits after SKSV (bytes 15..17).
 */
export const FIXED_SENSE_DATA = table('fixed format sense data', 18, [
  flag('valid', 0, 7),
  int('responseCode', 0, 7),
  flag('filemark', 2, 7),
  flag('eom', 2, 6),
  flag('ili', 2, 5),
  flag('sdatOvfl', 2, 4),
  int('senseKey', 2, 4),
  int('information', 3, 32),
  int('additionalSenseLength', 7, 8),
  int('commandSpecificInformation', 8, 32),
  int('asc', 12, 8),
  int('ascq', 13, 8),
  int('fieldReplaceableUnitCode', 14, 8),
  flag('sksv', 15, 7),
  int('senseKeySpecific', 15, 23),
]);

/** Descriptor format sense data header (SPC-6 4.4.2), followed by the descriptors. */
export const DESCRIPTOR_SENSE_HEADER = table('descriptor format sense data', 8, [
  int('responseCode', 0, 7),
  int('senseKey', 1, 4),
  int('asc', 2, 8),
  int('ascq', 3, 8),
  flag('sdatOvfl', 4, 7),
  int('additionalSenseLength', 7, 8),
]);

/** Information sense data descriptor, type 0x00 (SPC-6 4.4.2.2). */
export const INFORMATION_SENSE_DESCRIPTOR = table('Information sense data descriptor', 12, [
  int('descriptorType', 0, 8),
  int('additionalLength', 1, 8),
  flag('valid', 2, 7),
  int('information', 4, 64),
]);

/** Command-specific information sense data descriptor, type 0x01 (SPC-6 4.4.2.3). */
export const COMMAND_SPECIFIC_SENSE_DESCRIPTOR = table(
  'Command-specific information sense data descriptor',
  12,
  [int('descriptorType', 0, 8), int('additionalLength', 1, 8), int('commandSpecificInformation', 4, 64)],
);

/** Sense key specific sense data descriptor, type 0x02 (SPC-6 4.4.2.4). */
export const SENSE_KEY_SPECIFIC_SENSE_DESCRIPTOR = table('Sense key specific sense data descriptor', 8, [
  int('descriptorType', 0, 8),
  int('additionalLength', 1, 8),
  flag('sksv', 4, 7),
  int('senseKeySpecific', 4, 23),
]);

/** Field replaceable unit sense data descriptor, type 0x03 (SPC-6 4.4.2.5). */
export const FIELD_REPLACEABLE_UNIT_SENSE_DESCRIPTOR = table(
  'Field replaceable unit sense data descriptor',
  4,
  [int('descriptorType', 0, 8), int('additionalLength', 1, 8), int('fieldReplaceableUnitCode', 3, 8)],
);

/** Block commands sense data descriptor, type 0x05 (SBC-5 4.18.2). */
export const BLOCK_COMMANDS_SENSE_DESCRIPTOR = table('Block commands sense data descriptor', 4, [
  int('descriptorType', 0, 8),
  int('additionalLength', 1, 8),
  flag('ili', 3, 5),
]);

/** Stream commands sense data descriptor, type 0x04 (SSC-5 4.2.x). */
export const STREAM_COMMANDS_SENSE_DESCRIPTOR = table('Stream commands sense data descriptor', 4, [
  int('descriptorType', 0, 8),
  int('additionalLength', 1, 8),
  flag('filemark', 3, 7),
  flag('eom', 3, 6),
  flag('ili', 3, 5),
]);

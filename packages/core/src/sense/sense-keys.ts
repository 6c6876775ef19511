/**
 * The 16 SCSI sense keys (SPC-6 table "Sense key descriptions").
 * @module
 */

/** Sense key values by name. */
export const SenseKey = {
  NO_SENSE: 0x0,
  RECOVERED_ERROR: 0x1,
  NOT_READY: 0x2,
  MEDIUM_ERROR: 0x3,
  HARDWARE_ERROR: 0x4,
  ILLEGAL_REQUEST: 0x5,
  UNIT_ATTENTION: 0x6,
  DATA_PROTECT: 0x7,
  BLANK_CHECK: 0x8,
  VENDOR_SPECIFIC: 0x9,
  COPY_ABORTED: 0xa,
  ABORTED_COMMAND: 0xb,
  /** Obsolete (was EQUAL, for SEARCH DATA). */
  EQUAL: 0xc,
  VOLUME_OVERFLOW: 0xd,
  MISCOMPARE: 0xe,
  COMPLETED: 0xf,
} as const;

/** One of the {@link SenseKey} values (0..15). */
export type SenseKey = (typeof SenseKey)[keyof typeof SenseKey];

/** The strings sg3_utils prints for each sense key (lib/sg_lib_data.c `sg_lib_sense_key_desc`). */
const SENSE_KEY_NAMES: readonly string[] = [
  'No Sense',
  'Recovered Error',
  'Not Ready',
  'Medium Error',
  'Hardware Error',
  'Illegal Request',
  'Unit Attention',
  'Data Protect',
  'Blank Check',
  'Vendor specific',
  'Copy Aborted',
  'Aborted Command',
  'Equal',
  'Volume Overflow',
  'Miscompare',
  'Completed',
];

/** `Medium Error` for 3. Only the low 4 bits are used, as the field is 4 bits wide. */
export function senseKeyName(senseKey: number): string {
  return SENSE_KEY_NAMES[senseKey & 0xf] ?? 'Unknown';
}

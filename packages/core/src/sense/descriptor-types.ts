/**
 * Sense data descriptor types (SPC-6 table "Sense data descriptor types").
 * @module
 */
import { hexByte } from '../format/index.js';

/** Descriptor type codes by name. */
export const SenseDescriptorType = {
  INFORMATION: 0x00,
  COMMAND_SPECIFIC: 0x01,
  SENSE_KEY_SPECIFIC: 0x02,
  FIELD_REPLACEABLE_UNIT: 0x03,
  STREAM_COMMANDS: 0x04,
  BLOCK_COMMANDS: 0x05,
  OSD_OBJECT_IDENTIFICATION: 0x06,
  OSD_RESPONSE_INTEGRITY_CHECK_VALUE: 0x07,
  OSD_ATTRIBUTE_IDENTIFICATION: 0x08,
  ATA_STATUS_RETURN: 0x09,
  ANOTHER_PROGRESS_INDICATION: 0x0a,
  USER_DATA_SEGMENT_REFERRAL: 0x0b,
  FORWARDED_SENSE_DATA: 0x0c,
  DIRECT_ACCESS_BLOCK_DEVICE: 0x0d,
  DEVICE_DESIGNATION: 0x0e,
  MICROCODE_ACTIVATION_TIME: 0x0f,
} as const;

const NAMES: readonly string[] = [
  'Information',
  'Command specific',
  'Sense key specific',
  'Field replaceable unit',
  'Stream commands',
  'Block commands',
  'OSD object identification',
  'OSD response integrity check value',
  'OSD attribute identification',
  'ATA status return',
  'Another progress indication',
  'User data segment referral',
  'Forwarded sense data',
  'Direct-access block device',
  'Device designation',
  'Microcode activation time',
];

/** `Information` for 0x00; `Vendor specific` for 0x80..0xff; `Reserved` otherwise. */
export function senseDescriptorTypeName(type: number): string {
  if (type >= 0x80) return 'Vendor specific';
  return NAMES[type] ?? `Reserved [${hexByte(type)}]`;
}

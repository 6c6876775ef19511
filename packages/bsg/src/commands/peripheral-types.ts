/**
 * Peripheral device type names (SPC-6 table 50), worded as sg3_utils 1.46 prints them
 * (lib/sg_lib.c `sg_get_pdt_str`), so output can be compared with it field by field.
 * @module
 */

const NAMES: readonly string[] = [
  'disk',
  'tape',
  'printer',
  'processor',
  'write once optical disk',
  'cd/dvd',
  'scanner',
  'optical memory device',
  'medium changer',
  'communications',
  'graphics [0xa]',
  'graphics [0xb]',
  'storage array controller',
  'enclosure services device',
  'simplified direct access device',
  'optical card reader/writer device',
  'bridge controller commands',
  'object based storage',
  'automation/driver interface',
  'security manager device',
  'host managed zoned block',
  '0x15',
  '0x16',
  '0x17',
  '0x18',
  '0x19',
  '0x1a',
  '0x1b',
  '0x1c',
  '0x1d',
  'well known logical unit',
  'unknown or no device type',
];

/** The name of peripheral device type `type` (0..31), e.g. `disk` for 0, `cd/dvd` for 5. */
export function peripheralTypeName(type: number): string {
  return NAMES[type & 0x1f] ?? `0x${type.toString(16)}`;
}

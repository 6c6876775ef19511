/**
 * Decoding the ATA command carried by a SCSI ATA PASS-THROUGH CDB (SAT-4 12.2).
 * @module
 */
import { InvalidFieldError } from '../errors/index.js';

/** MMC (CD/DVD) peripheral device type: there 0xa1 is BLANK, not ATA PASS-THROUGH(12). */
const TYPE_ROM = 5;

/** Service action of ATA PASS-THROUGH(32) under opcode 0x7f (SAT-4). */
export const ATA_PASS_THROUGH_32_SERVICE_ACTION = 0x1ff0;

/** Which of the three ATA PASS-THROUGH CDBs. */
export type AtaPassThroughForm = 'ATA PASS-THROUGH(12)' | 'ATA PASS-THROUGH(16)' | 'ATA PASS-THROUGH(32)';

/** SAT PROTOCOL field names (SAT-4 table 155). */
export const ATA_PROTOCOL_NAMES: Readonly<Record<number, string>> = {
  0: 'ATA hardware reset',
  1: 'software reset',
  2: 'reserved',
  3: 'non-data',
  4: 'PIO data-in',
  5: 'PIO data-out',
  6: 'DMA',
  7: 'DMA queued',
  8: 'execute device diagnostic',
  9: 'device reset',
  10: 'UDMA data-in',
  11: 'UDMA data-out',
  12: 'FPDMA',
  13: 'reserved',
  14: 'reserved',
  15: 'return response information',
};

/** The ATA taskfile and transfer flags of an ATA PASS-THROUGH CDB. */
export interface AtaPassThroughCommand {
  /** Which CDB carried it. */
  readonly form: AtaPassThroughForm;
  /** SAT PROTOCOL (0..15). */
  readonly protocol: number;
  /** Its name ({@link ATA_PROTOCOL_NAMES}). */
  readonly protocolName: string;
  /** EXTEND bit: 48-bit (EXT) register values present (always false for the 12-byte form). */
  readonly extend: boolean;
  /** ATA COMMAND register. */
  readonly command: number;
  /** FEATURES (16 bits when `extend`, else 8). */
  readonly features: number;
  /** COUNT (16 bits when `extend`, else 8). */
  readonly count: number;
  /** LBA (48 bits when `extend`, else 24; the DEVICE register's low nibble is not folded in). */
  readonly lba: number;
  /** DEVICE register. */
  readonly device: number;
  /** T_DIR: true when the data moves from the device (data-in). */
  readonly fromDevice: boolean;
  /** T_LENGTH (0: no data). */
  readonly transferLength: number;
  /** CK_COND: ask for the ATA registers back even on success. */
  readonly checkCondition: boolean;
}

function need(cdb: Uint8Array, length: number, form: AtaPassThroughForm): void {
  if (cdb.length < length) {
    throw new InvalidFieldError('cdb', `${form} needs a ${length}-byte CDB`, cdb);
  }
}

function byte(cdb: Uint8Array, i: number): number {
  return cdb[i] ?? 0;
}

/**
 * Which ATA PASS-THROUGH form `cdb` is, or undefined: 0x85 always; 0xa1 unless the device
 * is MMC (type 5), where 0xa1 is BLANK; 0x7f with service action 0x1ff0.
 */
export function ataPassThroughForm(cdb: Uint8Array, deviceType = 0): AtaPassThroughForm | undefined {
  const op = cdb[0];
  if (op === 0x85) return 'ATA PASS-THROUGH(16)';
  if (op === 0xa1) return deviceType === TYPE_ROM ? undefined : 'ATA PASS-THROUGH(12)';
  if (
    op === 0x7f &&
    cdb.length >= 10 &&
    ((byte(cdb, 8) << 8) | byte(cdb, 9)) === ATA_PASS_THROUGH_32_SERVICE_ACTION
  ) {
    return 'ATA PASS-THROUGH(32)';
  }
  return undefined;
}

/** The CDB length each form needs. */
export const ATA_PASS_THROUGH_LENGTH: Readonly<Record<AtaPassThroughForm, number>> = {
  'ATA PASS-THROUGH(12)': 12,
  'ATA PASS-THROUGH(16)': 16,
  'ATA PASS-THROUGH(32)': 32,
};

/**
 * Decodes the embedded ATA command, with libata's byte offsets (drivers/ata/libata-scsi.c
 * `ata_scsi_pass_thru`): 12-byte form features/count/LBA low-mid-high/device/command at
 * bytes 3..9; 16-byte form EXTEND bit in byte 1, high bytes at 3/5/7/9/11 and low bytes at
 * 4/6/8/10/12, device 13, command 14; 32-byte form protocol and flags at bytes 10..11,
 * LBA 47..0 at bytes 14..19, features 20..21, count 22..23, device 24, command 25.
 * Returns undefined when `cdb` is not an ATA PASS-THROUGH (see {@link ataPassThroughForm});
 * a CDB too short for its form throws an InvalidFieldError on `cdb`.
 */
export function decodeAtaPassThrough(cdb: Uint8Array, deviceType = 0): AtaPassThroughCommand | undefined {
  const form = ataPassThroughForm(cdb, deviceType);
  if (form === undefined) return undefined;
  need(cdb, ATA_PASS_THROUGH_LENGTH[form], form);
  const b = (i: number): number => byte(cdb, i);
  const at = form === 'ATA PASS-THROUGH(32)' ? 10 : 1;
  const protocol = (b(at) >> 1) & 0x0f;
  const flags = b(at + 1);
  let extend = (b(at) & 1) === 1;
  let features: number;
  let count: number;
  let lba: number;
  let device: number;
  let command: number;
  if (form === 'ATA PASS-THROUGH(12)') {
    extend = false;
    features = b(3);
    count = b(4);
    lba = b(5) | (b(6) << 8) | (b(7) << 16);
    device = b(8);
    command = b(9);
  } else if (form === 'ATA PASS-THROUGH(16)') {
    features = b(4);
    count = b(6);
    lba = b(8) | (b(10) << 8) | (b(12) << 16);
    if (extend) {
      features |= b(3) << 8;
      count |= b(5) << 8;
      lba += b(7) * 2 ** 24 + b(9) * 2 ** 32 + b(11) * 2 ** 40;
    }
    device = b(13);
    command = b(14);
  } else {
    features = b(21);
    count = b(23);
    lba = b(19) | (b(18) << 8) | (b(17) << 16);
    if (extend) {
      features |= b(20) << 8;
      count |= b(22) << 8;
      lba += b(16) * 2 ** 24 + b(15) * 2 ** 32 + b(14) * 2 ** 40;
    }
    device = b(24);
    command = b(25);
  }
  return {
    form,
    protocol,
    protocolName: ATA_PROTOCOL_NAMES[protocol] ?? 'reserved',
    extend,
    command,
    features,
    count,
    lba,
    device,
    fromDevice: (flags & 0x08) !== 0,
    transferLength: flags & 0x03,
    checkCondition: (flags & 0x20) !== 0,
  };
}

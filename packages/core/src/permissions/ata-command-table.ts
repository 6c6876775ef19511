/**
 * The sgv4 proposal's ATA command table: how much access an ATA command sent through
 * ATA PASS-THROUGH needs. Linux has no such table (6.1 checks only the SCSI opcode), so
 * this is entirely beyond Linux.
 * @module
 */

import { hexByte } from '../format/index.js';
import type { AtaPassThroughCommand } from './ata-pass-through.js';
import type { PermissionCommandClass } from './command-class.js';

/** One ATA command (optionally one FEATURES value of it, for SMART) and its class. */
export interface AtaCommandEntry {
  /** ATA COMMAND register (ACS-4). */
  readonly command: number;
  /** FEATURES (low byte) value, for commands that multiplex on it (SMART 0xb0). */
  readonly feature?: number;
  /** ACS name. */
  readonly name: string;
  /** Its class. */
  readonly commandClass: PermissionCommandClass;
}

function e(
  command: number,
  name: string,
  commandClass: PermissionCommandClass,
  feature?: number,
): AtaCommandEntry {
  return feature === undefined ? { command, name, commandClass } : { command, feature, name, commandClass };
}

/** SMART (0xb0): the FEATURES value selects the subcommand. */
const SMART = 0xb0;

/**
 * The ATA table. Reads of data, logs and identification are read-safe (as SCSI READ and
 * INQUIRY are); cache flush and power-state changes are write-safe (as SYNCHRONIZE CACHE);
 * writes, log writes, TRIM, SECURITY, DOWNLOAD MICROCODE, SET FEATURES, SANITIZE, SET MAX
 * and resets are privileged: raw ATA writes skip the checks a SATL applies to SCSI WRITE
 * (write protection, reservations), and the rest can lock, brick or erase the drive.
 * Commands not listed are privileged.
 */
export const ATA_COMMAND_TABLE: readonly AtaCommandEntry[] = [
  e(0xec, 'IDENTIFY DEVICE', 'read-safe'),
  e(0xa1, 'IDENTIFY PACKET DEVICE', 'read-safe'),
  e(0xe5, 'CHECK POWER MODE', 'read-safe'),
  e(0x2f, 'READ LOG EXT', 'read-safe'),
  e(0x47, 'READ LOG DMA EXT', 'read-safe'),
  e(0x20, 'READ SECTORS', 'read-safe'),
  e(0x24, 'READ SECTORS EXT', 'read-safe'),
  e(0xc4, 'READ MULTIPLE', 'read-safe'),
  e(0x29, 'READ MULTIPLE EXT', 'read-safe'),
  e(0xc8, 'READ DMA', 'read-safe'),
  e(0x25, 'READ DMA EXT', 'read-safe'),
  e(0x60, 'READ FPDMA QUEUED', 'read-safe'),
  e(0x40, 'READ VERIFY SECTORS', 'read-safe'),
  e(0x42, 'READ VERIFY SECTORS EXT', 'read-safe'),
  e(SMART, 'SMART READ DATA', 'read-safe', 0xd0),
  e(SMART, 'SMART READ ATTRIBUTE THRESHOLDS', 'read-safe', 0xd1),
  e(SMART, 'SMART READ LOG', 'read-safe', 0xd5),
  e(SMART, 'SMART RETURN STATUS', 'read-safe', 0xda),
  e(SMART, 'SMART EXECUTE OFF-LINE IMMEDIATE', 'write-safe', 0xd4),
  e(SMART, 'SMART WRITE LOG', 'privileged', 0xd6),
  e(SMART, 'SMART ENABLE/DISABLE ATTRIBUTE AUTOSAVE', 'privileged', 0xd2),
  e(SMART, 'SMART ENABLE OPERATIONS', 'privileged', 0xd8),
  e(SMART, 'SMART DISABLE OPERATIONS', 'privileged', 0xd9),
  e(0xe7, 'FLUSH CACHE', 'write-safe'),
  e(0xea, 'FLUSH CACHE EXT', 'write-safe'),
  e(0xe0, 'STANDBY IMMEDIATE', 'write-safe'),
  e(0xe1, 'IDLE IMMEDIATE', 'write-safe'),
  e(0xe2, 'STANDBY', 'write-safe'),
  e(0xe3, 'IDLE', 'write-safe'),
  e(0x30, 'WRITE SECTORS', 'privileged'),
  e(0x34, 'WRITE SECTORS EXT', 'privileged'),
  e(0xc5, 'WRITE MULTIPLE', 'privileged'),
  e(0x39, 'WRITE MULTIPLE EXT', 'privileged'),
  e(0xca, 'WRITE DMA', 'privileged'),
  e(0x35, 'WRITE DMA EXT', 'privileged'),
  e(0x3d, 'WRITE DMA FUA EXT', 'privileged'),
  e(0x61, 'WRITE FPDMA QUEUED', 'privileged'),
  e(0x3f, 'WRITE LOG EXT', 'privileged'),
  e(0x57, 'WRITE LOG DMA EXT', 'privileged'),
  e(0x06, 'DATA SET MANAGEMENT', 'privileged'),
  e(0xf1, 'SECURITY SET PASSWORD', 'privileged'),
  e(0xf2, 'SECURITY UNLOCK', 'privileged'),
  e(0xf3, 'SECURITY ERASE PREPARE', 'privileged'),
  e(0xf4, 'SECURITY ERASE UNIT', 'privileged'),
  e(0xf5, 'SECURITY FREEZE LOCK', 'privileged'),
  e(0xf6, 'SECURITY DISABLE PASSWORD', 'privileged'),
  e(0x92, 'DOWNLOAD MICROCODE', 'privileged'),
  e(0x93, 'DOWNLOAD MICROCODE DMA', 'privileged'),
  e(0xef, 'SET FEATURES', 'privileged'),
  e(0xb4, 'SANITIZE DEVICE', 'privileged'),
  e(0xf9, 'SET MAX ADDRESS', 'privileged'),
  e(0x37, 'SET MAX ADDRESS EXT', 'privileged'),
  e(0x08, 'DEVICE RESET', 'privileged'),
  e(0x90, 'EXECUTE DEVICE DIAGNOSTIC', 'privileged'),
];

const BY_COMMAND = new Map<number, AtaCommandEntry>();
const BY_FEATURE = new Map<number, AtaCommandEntry>();
for (const entry of ATA_COMMAND_TABLE) {
  if (entry.feature === undefined) BY_COMMAND.set(entry.command, entry);
  else BY_FEATURE.set((entry.command << 8) | entry.feature, entry);
}

/** SAT protocols that reset the device or bus whatever the command register says. */
const RESET_PROTOCOLS: readonly number[] = [0, 1, 9];
/** SAT protocols that move data to the device. */
const DATA_OUT_PROTOCOLS: readonly number[] = [5, 11];
/** DMA protocols whose direction is T_DIR. */
const DMA_PROTOCOLS: readonly number[] = [6, 7, 12];

/** An ATA command's class and why. */
export interface AtaClassification {
  /** The table entry, or a synthesised privileged one for an unlisted command. */
  readonly entry: AtaCommandEntry;
  /** The class that applies (may be stricter than the entry's: see `reason`). */
  readonly commandClass: PermissionCommandClass;
  /** Why, when it is not simply the entry's class. */
  readonly reason?: string;
}

/**
 * Classifies a decoded ATA PASS-THROUGH command with {@link ATA_COMMAND_TABLE}. Two rules
 * tighten the entry's class to privileged: a reset protocol (hardware reset, software
 * reset, device reset) and a read-safe command whose protocol or T_DIR sends data to the
 * device (the registers then do not describe what really happens).
 */
export function classifyAtaCommand(ata: AtaPassThroughCommand): AtaClassification {
  const entry =
    (ata.command === SMART ? BY_FEATURE.get((SMART << 8) | (ata.features & 0xff)) : undefined) ??
    BY_COMMAND.get(ata.command) ??
    e(
      ata.command,
      ata.command === SMART
        ? `SMART feature ${hexByte(ata.features & 0xff)}`
        : `ATA command ${hexByte(ata.command)}`,
      'privileged',
    );
  if (RESET_PROTOCOLS.includes(ata.protocol)) {
    return {
      entry,
      commandClass: 'privileged',
      reason: `protocol ${ata.protocol} (${ata.protocolName}) resets the device`,
    };
  }
  const sendsData =
    DATA_OUT_PROTOCOLS.includes(ata.protocol) ||
    (DMA_PROTOCOLS.includes(ata.protocol) && ata.transferLength !== 0 && !ata.fromDevice);
  if (entry.commandClass === 'read-safe' && sendsData) {
    return {
      entry,
      commandClass: 'privileged',
      reason: `protocol ${ata.protocol} (${ata.protocolName}) sends data to the device, which ${entry.name} does not`,
    };
  }
  return { entry, commandClass: entry.commandClass };
}

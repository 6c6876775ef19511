/**
 * The permission classes a pass-through command can fall into, and one table entry.
 * @module
 */

/**
 * How much access a command needs, in the terms of Linux 6.1 `scsi_cmd_allowed()`
 * (drivers/scsi/scsi_ioctl.c):
 * - `read-safe`: allowed on any open of the node;
 * - `write-safe`: allowed when the node was opened for writing (FMODE_WRITE);
 * - `privileged`: only with CAP_SYS_RAWIO (every opcode the table does not list).
 */
export type PermissionCommandClass = 'read-safe' | 'write-safe' | 'privileged';

/** Every class, in increasing order of privilege. */
export const PERMISSION_COMMAND_CLASSES: readonly PermissionCommandClass[] = [
  'read-safe',
  'write-safe',
  'privileged',
];

/** One command of a permission table: an opcode, optionally narrowed by a service action or device type. */
export interface PermissionCommandEntry {
  /** CDB byte 0. */
  readonly opcode: number;
  /**
   * Service action, for opcodes that carry several commands (5-bit field in byte 1 for
   * 0x9e, 0x9f, 0xa3, 0xa4, 0x83, 0x84; 16-bit field in bytes 8..9 for 0x7f).
   */
  readonly serviceAction?: number;
  /**
   * Peripheral device type (SPC: 0 disk, 1 tape, 5 CD/DVD, 6 scanner...) the entry is
   * restricted to, for opcodes whose meaning depends on the device (0xa1 BLANK on MMC,
   * ATA PASS-THROUGH(12) elsewhere).
   */
  readonly deviceType?: number;
  /** The command's name, as the kernel or the T10 standard spells it. */
  readonly name: string;
  /** Its class. */
  readonly commandClass: PermissionCommandClass;
}

/**
 * The sgv4 proposal table: Linux 6.1's classes, made service-action and device-type
 * aware. This goes beyond Linux on purpose; every difference is listed here.
 * @module
 */
import type { PermissionCommandEntry } from '../command-class.js';
import { PermissionTable } from '../permission-table.js';
import { LINUX_6_1_READ_CLASS, LINUX_6_1_WRITE_CLASS, opcodesOf } from './linux-6-1.js';

/** MMC (CD/DVD) peripheral device type, SPC `TYPE_ROM`. */
const TYPE_ROM = 5;

/** Byte-0 names of opcodes the proposal names but does not allow unprivileged. */
const PRIVILEGED_NAMES: Readonly<Record<number, string>> = {
  13: 'opcode 0x0d (WRITE_SAME_32 is a 0x7f service action, not an opcode)',
  29: 'SEND DIAGNOSTIC',
  59: 'WRITE BUFFER',
  94: 'PERSISTENT RESERVE IN',
  95: 'PERSISTENT RESERVE OUT',
  127: 'VARIABLE LENGTH',
  131: 'THIRD-PARTY COPY OUT',
  132: 'THIRD-PARTY COPY IN',
  133: 'ATA PASS-THROUGH(16)',
  159: 'SERVICE ACTION OUT(16)',
  181: 'SECURITY PROTOCOL OUT',
};

function sa(
  opcode: number,
  serviceAction: number,
  name: string,
  commandClass: PermissionCommandEntry['commandClass'],
): PermissionCommandEntry {
  return { opcode, serviceAction, name, commandClass };
}

/**
 * Service-action entries (SPC-5, SBC-4 opcode lists). An unlisted service action of these
 * opcodes is privileged, so a new T10 command is never unprivileged by accident.
 */
const SERVICE_ACTIONS: readonly PermissionCommandEntry[] = [
  // 0x7f variable length (SBC-4): 6.1 refuses all of them unprivileged.
  sa(0x7f, 0x0009, 'READ(32)', 'read-safe'),
  sa(0x7f, 0x000a, 'VERIFY(32)', 'read-safe'),
  sa(0x7f, 0x000b, 'WRITE(32)', 'write-safe'),
  sa(0x7f, 0x000c, 'WRITE AND VERIFY(32)', 'write-safe'),
  sa(0x7f, 0x000d, 'WRITE SAME(32)', 'write-safe'),
  sa(0x7f, 0x000e, 'ORWRITE(32)', 'write-safe'),
  sa(0x7f, 0x1ff0, 'ATA PASS-THROUGH(32)', 'privileged'),
  // 0x9e SERVICE ACTION IN(16): 6.1 allows every service action on any open.
  sa(0x9e, 0x10, 'READ CAPACITY(16)', 'read-safe'),
  sa(0x9e, 0x11, 'READ LONG(16)', 'read-safe'),
  sa(0x9e, 0x12, 'GET LBA STATUS', 'read-safe'),
  sa(0x9e, 0x13, 'REPORT REFERRALS', 'read-safe'),
  sa(0x9e, 0x16, 'GET STREAM STATUS', 'read-safe'),
  // 0x9f SERVICE ACTION OUT(16).
  sa(0x9f, 0x11, 'WRITE LONG(16)', 'write-safe'),
  // 0xa3 MAINTENANCE IN (non-MMC): only the REPORT service actions.
  sa(0xa3, 0x05, 'REPORT IDENTIFYING INFORMATION', 'read-safe'),
  sa(0xa3, 0x0a, 'REPORT TARGET PORT GROUPS', 'read-safe'),
  sa(0xa3, 0x0b, 'REPORT ALIASES', 'read-safe'),
  sa(0xa3, 0x0c, 'REPORT SUPPORTED OPERATION CODES', 'read-safe'),
  sa(0xa3, 0x0d, 'REPORT SUPPORTED TASK MANAGEMENT FUNCTIONS', 'read-safe'),
  sa(0xa3, 0x0e, 'REPORT PRIORITY', 'read-safe'),
  sa(0xa3, 0x0f, 'REPORT TIMESTAMP', 'read-safe'),
  // 0xa4 MAINTENANCE OUT (non-MMC): 6.1 allows it on any open because 0xa4 is also
  // GPCMD_REPORT_KEY; these change target state, so they are privileged here.
  sa(0xa4, 0x06, 'SET IDENTIFYING INFORMATION', 'privileged'),
  sa(0xa4, 0x0a, 'SET TARGET PORT GROUPS', 'privileged'),
  sa(0xa4, 0x0e, 'SET PRIORITY', 'privileged'),
  sa(0xa4, 0x0f, 'SET TIMESTAMP', 'privileged'),
  // 0x83 THIRD-PARTY COPY OUT: EXTENDED COPY may address other logical units.
  sa(0x83, 0x00, 'EXTENDED COPY(LID1)', 'privileged'),
  sa(0x83, 0x01, 'EXTENDED COPY(LID4)', 'privileged'),
  sa(0x83, 0x10, 'POPULATE TOKEN', 'read-safe'),
  sa(0x83, 0x11, 'WRITE USING TOKEN', 'write-safe'),
  sa(0x83, 0x1c, 'COPY OPERATION ABORT', 'write-safe'),
  // 0x84 THIRD-PARTY COPY IN: status and parameter reports.
  sa(0x84, 0x00, 'RECEIVE COPY STATUS(LID1)', 'read-safe'),
  sa(0x84, 0x01, 'RECEIVE COPY DATA(LID1)', 'read-safe'),
  sa(0x84, 0x03, 'RECEIVE COPY OPERATING PARAMETERS', 'read-safe'),
  sa(0x84, 0x04, 'RECEIVE COPY FAILURE DETAILS(LID1)', 'read-safe'),
  sa(0x84, 0x05, 'RECEIVE COPY STATUS(LID4)', 'read-safe'),
  sa(0x84, 0x06, 'RECEIVE COPY DATA(LID4)', 'read-safe'),
  sa(0x84, 0x07, 'RECEIVE ROD TOKEN INFORMATION', 'read-safe'),
  sa(0x84, 0x08, 'REPORT ALL ROD TOKENS', 'read-safe'),
];

/**
 * MMC meanings of opcodes that mean something else on other devices (MMC-6): on a
 * CD/DVD device these keep their 6.1 class and skip the service-action decoding.
 */
const MMC_ENTRIES: readonly PermissionCommandEntry[] = [
  { opcode: 0xa1, deviceType: TYPE_ROM, name: 'BLANK', commandClass: 'write-safe' },
  { opcode: 0xa3, deviceType: TYPE_ROM, name: 'SEND KEY', commandClass: 'write-safe' },
  { opcode: 0xa4, deviceType: TYPE_ROM, name: 'REPORT KEY', commandClass: 'read-safe' },
];

/**
 * The sgv4 proposal. Byte-0 bitmaps: 6.1's, minus raw 0x0d (not a command; WRITE SAME(32)
 * is 0x7f service action 0x000d) plus SYNCHRONIZE CACHE(16) 0x91 as write-safe (6.1 has
 * only the 10-byte form). Refinements: per-service-action classes for 0x7f, 0x9e, 0x9f,
 * 0xa3, 0xa4, 0x83, 0x84 (unlisted service actions privileged) and MMC meanings of 0xa1,
 * 0xa3, 0xa4 on device type 5. ATA PASS-THROUGH CDBs are classified by the ATA table
 * under the `ata-aware` policy.
 */
export const SGV4_PROPOSAL_TABLE: PermissionTable = new PermissionTable({
  name: 'sgv4-proposal',
  description:
    'sgv4 proposal: 6.1 classes refined per service action (0x7f, 0x9e, 0x9f, 0xa3, 0xa4, 0x83, 0x84) and per device type (MMC 0xa1/0xa3/0xa4).',
  readOk: opcodesOf(LINUX_6_1_READ_CLASS),
  writeOk: [...opcodesOf(LINUX_6_1_WRITE_CLASS).filter((op) => op !== 0x0d), 0x91].sort((a, b) => a - b),
  names: {
    ...LINUX_6_1_WRITE_CLASS,
    ...LINUX_6_1_READ_CLASS,
    ...PRIVILEGED_NAMES,
    145: 'SYNCHRONIZE CACHE(16)',
  },
  refinements: [...SERVICE_ACTIONS, ...MMC_ENTRIES],
});

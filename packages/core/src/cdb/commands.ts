/**
 * Field tables of the CDBs sgv4 builds and decodes (SPC-6, SBC-5, SAT-5). One table per
 * command; byte 0 (OPERATION CODE) and, where there is one, the SERVICE ACTION are filled
 * from the table, never by the caller.
 * @module
 */
import type { FieldSpec, FieldTable } from './field-table.js';

/** Direction of the data phase. */
export type DataDirection = 'none' | 'in' | 'out';

/** One command's CDB layout. */
export interface CdbSpec extends FieldTable {
  /** Short key used by the CLI and `buildCdb`, e.g. `read10`. */
  readonly key: string;
  /** OPERATION CODE. */
  readonly opcode: number;
  /** SERVICE ACTION (bits 0..4 of byte 1) for commands that share an opcode. */
  readonly serviceAction?: number;
  /** Direction of the data the command transfers. */
  readonly direction: DataDirection;
}

/** Every integer field gets the same shape (kind, bit and description always present), so the codec's property reads stay monomorphic. */
const int = (name: string, byte: number, width: number, bit = 0, description = ''): FieldSpec => ({
  name,
  kind: 'int',
  byte,
  bit,
  width,
  description,
});
const flag = (name: string, byte: number, bit: number, description?: string): FieldSpec =>
  int(name, byte, 1, bit, description);
const control = (byte: number): FieldSpec => int('control', byte, 8, 0, 'CONTROL byte (NACA, LINK)');
const serviceActionField: FieldSpec = int('serviceAction', 1, 5, 0, 'SERVICE ACTION');
const group = (byte: number): FieldSpec => int('groupNumber', byte, 6, 0, 'GROUP NUMBER');

/** Byte 1 of READ/WRITE/VERIFY (10/12/16): protection, DPO, FUA (SBC-5 5.x). */
function rwFlags(protectName: string): FieldSpec[] {
  return [
    int(protectName, 1, 3, 5, `${protectName.toUpperCase()} protection information checking`),
    flag('dpo', 1, 4, 'disable page out'),
    flag('fua', 1, 3, 'force unit access'),
  ];
}

function spec(s: Omit<CdbSpec, 'fields'> & { fields: FieldSpec[] }): CdbSpec {
  const head: FieldSpec[] = [int('operationCode', 0, 8, 0, 'OPERATION CODE')];
  if (s.serviceAction !== undefined) head.push(serviceActionField);
  return Object.freeze({ ...s, fields: Object.freeze([...head, ...s.fields]) });
}

function readWrite(
  name: string,
  key: string,
  opcode: number,
  length: 10 | 12 | 16,
  direction: DataDirection,
  protect: string,
): CdbSpec {
  const lbaBytes = length === 16 ? 8 : 4;
  // READ(10): group number in byte 6, then the 2-byte length; (12)/(16): length right after the LBA.
  const lenAt = length === 10 ? 7 : 2 + lbaBytes;
  const lenBytes = length === 10 ? 2 : 4;
  const extra: FieldSpec[] =
    protect === 'rdprotect' ? [flag('rarc', 1, 2, 'rebuild assist recovery control')] : [];
  return spec({
    name,
    key,
    opcode,
    length,
    direction,
    fields: [
      ...rwFlags(protect),
      ...extra,
      int('lba', 2, lbaBytes * 8, 0, 'LOGICAL BLOCK ADDRESS'),
      ...(length === 10 ? [group(6)] : []),
      int('transferLength', lenAt, lenBytes * 8, 0, 'TRANSFER LENGTH in logical blocks'),
      ...(length === 10 ? [] : [group(lenAt + lenBytes)]),
      control(length - 1),
    ],
  });
}

/** PERSISTENT RESERVE IN (SPC-6 6.16): one table per service action, 10-byte CDB. */
function persistentReserveIn(name: string, key: string, serviceAction: number): CdbSpec {
  return spec({
    name: `PERSISTENT RESERVE IN (${name})`,
    key,
    opcode: 0x5e,
    serviceAction,
    length: 10,
    direction: 'in',
    fields: [int('allocationLength', 7, 16), control(9)],
  });
}

/** PERSISTENT RESERVE OUT (SPC-6 6.17): one table per service action; SCOPE and TYPE in byte 2. */
function persistentReserveOut(name: string, key: string, serviceAction: number): CdbSpec {
  return spec({
    name: `PERSISTENT RESERVE OUT (${name})`,
    key,
    opcode: 0x5f,
    serviceAction,
    length: 10,
    direction: 'out',
    fields: [
      int('scope', 2, 4, 4, 'SCOPE: 0 = logical unit'),
      int('type', 2, 4, 0, 'TYPE: 1 WE, 3 EA, 5 WE-RO, 6 EA-RO, 7 WE-AR, 8 EA-AR'),
      int('parameterListLength', 5, 32),
      control(9),
    ],
  });
}

/** WRITE AND VERIFY(10/12/16) and VERIFY(12) (SBC-5 5.49..5.51, 5.47): BYTCHK in byte 1 bits 2..1. */
function verifyLike(
  name: string,
  key: string,
  opcode: number,
  length: 10 | 12 | 16,
  protect: string,
  lengthName: string,
): CdbSpec {
  const lbaBytes = length === 16 ? 8 : 4;
  const lenAt = length === 10 ? 7 : 2 + lbaBytes;
  const lenBytes = length === 10 ? 2 : 4;
  return spec({
    name,
    key,
    opcode,
    length,
    direction: 'out',
    fields: [
      int(protect, 1, 3, 5),
      flag('dpo', 1, 4),
      int('bytchk', 1, 2, 1, 'BYTCHK: 0 medium only, 1/3 compare with data-out'),
      int('lba', 2, lbaBytes * 8),
      ...(length === 10 ? [group(6)] : []),
      int(lengthName, lenAt, lenBytes * 8),
      ...(length === 10 ? [] : [group(lenAt + lenBytes)]),
      control(length - 1),
    ],
  });
}

/** Every CDB table, keyed by {@link CdbSpec.key}. */
export const CDB_SPECS: readonly CdbSpec[] = Object.freeze([
  spec({
    name: 'TEST UNIT READY',
    key: 'tur',
    opcode: 0x00,
    length: 6,
    direction: 'none',
    fields: [control(5)],
  }),
  spec({
    name: 'REQUEST SENSE',
    key: 'request-sense',
    opcode: 0x03,
    length: 6,
    direction: 'in',
    fields: [flag('desc', 1, 0, 'descriptor format sense'), int('allocationLength', 4, 8), control(5)],
  }),
  spec({
    name: 'INQUIRY',
    key: 'inquiry',
    opcode: 0x12,
    length: 6,
    direction: 'in',
    fields: [
      flag('evpd', 1, 0, 'enable vital product data'),
      int('pageCode', 2, 8, 0, 'VPD page code (EVPD=1)'),
      int('allocationLength', 3, 16),
      control(5),
    ],
  }),
  spec({
    name: 'READ CAPACITY(10)',
    key: 'read-capacity10',
    opcode: 0x25,
    length: 10,
    direction: 'in',
    fields: [int('lba', 2, 32, 0, 'obsolete LBA'), flag('pmi', 8, 0, 'obsolete PMI'), control(9)],
  }),
  spec({
    name: 'READ CAPACITY(16)',
    key: 'read-capacity16',
    opcode: 0x9e,
    serviceAction: 0x10,
    length: 16,
    direction: 'in',
    fields: [
      int('lba', 2, 64, 0, 'obsolete LBA'),
      int('allocationLength', 10, 32),
      flag('pmi', 14, 0),
      control(15),
    ],
  }),
  spec({
    name: 'READ(6)',
    key: 'read6',
    opcode: 0x08,
    length: 6,
    direction: 'in',
    fields: [
      int('lba', 1, 21, 0, 'LOGICAL BLOCK ADDRESS'),
      int('transferLength', 4, 8, 0, '0 means 256 blocks'),
      control(5),
    ],
  }),
  readWrite('READ(10)', 'read10', 0x28, 10, 'in', 'rdprotect'),
  readWrite('READ(12)', 'read12', 0xa8, 12, 'in', 'rdprotect'),
  readWrite('READ(16)', 'read16', 0x88, 16, 'in', 'rdprotect'),
  spec({
    name: 'WRITE(6)',
    key: 'write6',
    opcode: 0x0a,
    length: 6,
    direction: 'out',
    fields: [
      int('lba', 1, 21, 0, 'LOGICAL BLOCK ADDRESS'),
      int('transferLength', 4, 8, 0, '0 means 256 blocks'),
      control(5),
    ],
  }),
  readWrite('WRITE(10)', 'write10', 0x2a, 10, 'out', 'wrprotect'),
  readWrite('WRITE(12)', 'write12', 0xaa, 12, 'out', 'wrprotect'),
  readWrite('WRITE(16)', 'write16', 0x8a, 16, 'out', 'wrprotect'),
  spec({
    name: 'VERIFY(10)',
    key: 'verify10',
    opcode: 0x2f,
    length: 10,
    direction: 'out',
    fields: [
      int('vrprotect', 1, 3, 5),
      flag('dpo', 1, 4),
      int('bytchk', 1, 2, 1, 'BYTCHK: 0 medium only, 1/3 compare with data-out'),
      int('lba', 2, 32),
      group(6),
      int('verificationLength', 7, 16),
      control(9),
    ],
  }),
  spec({
    name: 'VERIFY(16)',
    key: 'verify16',
    opcode: 0x8f,
    length: 16,
    direction: 'out',
    fields: [
      int('vrprotect', 1, 3, 5),
      flag('dpo', 1, 4),
      int('bytchk', 1, 2, 1),
      int('lba', 2, 64),
      int('verificationLength', 10, 32),
      group(14),
      control(15),
    ],
  }),
  spec({
    name: 'WRITE SAME(10)',
    key: 'write-same10',
    opcode: 0x41,
    length: 10,
    direction: 'out',
    fields: [
      int('wrprotect', 1, 3, 5),
      flag('anchor', 1, 4),
      flag('unmap', 1, 3),
      int('lba', 2, 32),
      group(6),
      int('numberOfBlocks', 7, 16),
      control(9),
    ],
  }),
  spec({
    name: 'WRITE SAME(16)',
    key: 'write-same16',
    opcode: 0x93,
    length: 16,
    direction: 'out',
    fields: [
      int('wrprotect', 1, 3, 5),
      flag('anchor', 1, 4),
      flag('unmap', 1, 3),
      flag('ndob', 1, 0, 'no data-out buffer'),
      int('lba', 2, 64),
      int('numberOfBlocks', 10, 32),
      group(14),
      control(15),
    ],
  }),
  spec({
    name: 'SYNCHRONIZE CACHE(10)',
    key: 'sync-cache10',
    opcode: 0x35,
    length: 10,
    direction: 'none',
    fields: [flag('immed', 1, 1), int('lba', 2, 32), group(6), int('numberOfBlocks', 7, 16), control(9)],
  }),
  spec({
    name: 'SYNCHRONIZE CACHE(16)',
    key: 'sync-cache16',
    opcode: 0x91,
    length: 16,
    direction: 'none',
    fields: [flag('immed', 1, 1), int('lba', 2, 64), int('numberOfBlocks', 10, 32), group(14), control(15)],
  }),
  spec({
    name: 'MODE SENSE(6)',
    key: 'mode-sense6',
    opcode: 0x1a,
    length: 6,
    direction: 'in',
    fields: [
      flag('dbd', 1, 3, 'disable block descriptors'),
      int('pc', 2, 2, 6, 'page control: 0 current, 1 changeable, 2 default, 3 saved'),
      int('pageCode', 2, 6),
      int('subpageCode', 3, 8),
      int('allocationLength', 4, 8),
      control(5),
    ],
  }),
  spec({
    name: 'MODE SENSE(10)',
    key: 'mode-sense10',
    opcode: 0x5a,
    length: 10,
    direction: 'in',
    fields: [
      flag('llbaa', 1, 4, 'long LBA accepted'),
      flag('dbd', 1, 3),
      int('pc', 2, 2, 6),
      int('pageCode', 2, 6),
      int('subpageCode', 3, 8),
      int('allocationLength', 7, 16),
      control(9),
    ],
  }),
  spec({
    name: 'MODE SELECT(6)',
    key: 'mode-select6',
    opcode: 0x15,
    length: 6,
    direction: 'out',
    fields: [
      flag('pf', 1, 4, 'page format'),
      flag('sp', 1, 0, 'save pages'),
      int('parameterListLength', 4, 8),
      control(5),
    ],
  }),
  spec({
    name: 'MODE SELECT(10)',
    key: 'mode-select10',
    opcode: 0x55,
    length: 10,
    direction: 'out',
    fields: [flag('pf', 1, 4), flag('sp', 1, 0), int('parameterListLength', 7, 16), control(9)],
  }),
  spec({
    name: 'REPORT LUNS',
    key: 'report-luns',
    opcode: 0xa0,
    length: 12,
    direction: 'in',
    fields: [int('selectReport', 2, 8), int('allocationLength', 6, 32), control(11)],
  }),
  spec({
    name: 'REPORT SUPPORTED OPERATION CODES',
    key: 'report-opcodes',
    opcode: 0xa3,
    serviceAction: 0x0c,
    length: 12,
    direction: 'in',
    fields: [
      flag('rctd', 2, 7, 'return command timeouts descriptor'),
      int('reportingOptions', 2, 3),
      int('requestedOperationCode', 3, 8),
      int('requestedServiceAction', 4, 16),
      int('allocationLength', 6, 32),
      control(11),
    ],
  }),
  spec({
    name: 'START STOP UNIT',
    key: 'start-stop',
    opcode: 0x1b,
    length: 6,
    direction: 'none',
    fields: [
      flag('immed', 1, 0),
      int('powerConditionModifier', 3, 4),
      int('powerCondition', 4, 4, 4),
      flag('noFlush', 4, 2),
      flag('loej', 4, 1, 'load/eject'),
      flag('start', 4, 0),
      control(5),
    ],
  }),
  spec({
    name: 'UNMAP',
    key: 'unmap',
    opcode: 0x42,
    length: 10,
    direction: 'out',
    fields: [flag('anchor', 1, 0), group(6), int('parameterListLength', 7, 16), control(9)],
  }),
  spec({
    name: 'RESERVE(6)',
    key: 'reserve6',
    opcode: 0x16,
    length: 6,
    direction: 'none',
    fields: [flag('extent', 1, 0, 'obsolete EXTENT (SPC-2)'), control(5)],
  }),
  spec({
    name: 'RELEASE(6)',
    key: 'release6',
    opcode: 0x17,
    length: 6,
    direction: 'none',
    fields: [flag('extent', 1, 0, 'obsolete EXTENT (SPC-2)'), control(5)],
  }),
  spec({
    name: 'RESERVE(10)',
    key: 'reserve10',
    opcode: 0x56,
    length: 10,
    direction: 'none',
    fields: [
      flag('thirdParty', 1, 4, '3RDPTY (SPC-2)'),
      flag('longId', 1, 1, 'LONGID (SPC-2)'),
      int('thirdPartyDeviceId', 3, 8),
      int('parameterListLength', 7, 16),
      control(9),
    ],
  }),
  spec({
    name: 'RELEASE(10)',
    key: 'release10',
    opcode: 0x57,
    length: 10,
    direction: 'none',
    fields: [
      flag('thirdParty', 1, 4, '3RDPTY (SPC-2)'),
      flag('longId', 1, 1, 'LONGID (SPC-2)'),
      int('thirdPartyDeviceId', 3, 8),
      int('parameterListLength', 7, 16),
      control(9),
    ],
  }),
  persistentReserveIn('READ KEYS', 'prin-read-keys', 0x00),
  persistentReserveIn('READ RESERVATION', 'prin-read-reservation', 0x01),
  persistentReserveIn('REPORT CAPABILITIES', 'prin-report-capabilities', 0x02),
  persistentReserveIn('READ FULL STATUS', 'prin-read-full-status', 0x03),
  persistentReserveOut('REGISTER', 'prout-register', 0x00),
  persistentReserveOut('RESERVE', 'prout-reserve', 0x01),
  persistentReserveOut('RELEASE', 'prout-release', 0x02),
  persistentReserveOut('CLEAR', 'prout-clear', 0x03),
  persistentReserveOut('PREEMPT', 'prout-preempt', 0x04),
  persistentReserveOut('PREEMPT AND ABORT', 'prout-preempt-and-abort', 0x05),
  persistentReserveOut('REGISTER AND IGNORE EXISTING KEY', 'prout-register-and-ignore', 0x06),
  spec({
    name: 'COMPARE AND WRITE',
    key: 'compare-and-write',
    opcode: 0x89,
    length: 16,
    direction: 'out',
    fields: [
      int('wrprotect', 1, 3, 5),
      flag('dpo', 1, 4),
      flag('fua', 1, 3),
      int('lba', 2, 64),
      int('numberOfBlocks', 13, 8, 0, 'NUMBER OF LOGICAL BLOCKS (data-out holds twice this)'),
      group(14),
      control(15),
    ],
  }),
  verifyLike('WRITE AND VERIFY(10)', 'write-verify10', 0x2e, 10, 'wrprotect', 'transferLength'),
  verifyLike('WRITE AND VERIFY(12)', 'write-verify12', 0xae, 12, 'wrprotect', 'transferLength'),
  verifyLike('WRITE AND VERIFY(16)', 'write-verify16', 0x8e, 16, 'wrprotect', 'transferLength'),
  verifyLike('VERIFY(12)', 'verify12', 0xaf, 12, 'vrprotect', 'verificationLength'),
  spec({
    name: 'PRE-FETCH(10)',
    key: 'prefetch10',
    opcode: 0x34,
    length: 10,
    direction: 'none',
    fields: [flag('immed', 1, 1), int('lba', 2, 32), group(6), int('prefetchLength', 7, 16), control(9)],
  }),
  spec({
    name: 'PRE-FETCH(16)',
    key: 'prefetch16',
    opcode: 0x90,
    length: 16,
    direction: 'none',
    fields: [flag('immed', 1, 1), int('lba', 2, 64), int('prefetchLength', 10, 32), group(14), control(15)],
  }),
  spec({
    name: 'PREVENT ALLOW MEDIUM REMOVAL',
    key: 'prevent-allow',
    opcode: 0x1e,
    length: 6,
    direction: 'none',
    fields: [int('prevent', 4, 2, 0, 'PREVENT: 0 allow, 1 prevent'), control(5)],
  }),
  spec({
    name: 'GET LBA STATUS',
    key: 'get-lba-status',
    opcode: 0x9e,
    serviceAction: 0x12,
    length: 16,
    direction: 'in',
    fields: [
      int('lba', 2, 64, 0, 'STARTING LOGICAL BLOCK ADDRESS'),
      int('allocationLength', 10, 32),
      int(
        'reportType',
        14,
        2,
        0,
        'REPORT TYPE (SBC-5): 0 all, 1 mapped or unknown, 2 deallocated, 3 anchored',
      ),
      control(15),
    ],
  }),
  spec({
    name: 'REPORT SUPPORTED TASK MANAGEMENT FUNCTIONS',
    key: 'report-tmfs',
    opcode: 0xa3,
    serviceAction: 0x0d,
    length: 12,
    direction: 'in',
    fields: [
      flag('repd', 2, 7, 'return extended parameter data'),
      int('allocationLength', 6, 32),
      control(11),
    ],
  }),
  spec({
    name: 'ATA PASS-THROUGH(12)',
    key: 'ata12',
    opcode: 0xa1,
    length: 12,
    direction: 'none',
    fields: [
      int('multipleCount', 1, 3, 5),
      int('protocol', 1, 4, 1, 'ATA protocol (SAT-5 table): 3 non-data, 4 PIO in, 5 PIO out, 6 DMA, ...'),
      int('offline', 2, 2, 6),
      flag('ckCond', 2, 5, 'check condition: return ATA registers in sense'),
      flag('tType', 2, 4),
      flag('tDir', 2, 3, '1 = from device'),
      flag('byteBlock', 2, 2),
      int('tLength', 2, 2, 0, 'where the transfer length is: 0 none, 1 FEATURES, 2 COUNT, 3 STPSIU'),
      int('features', 3, 8),
      int('count', 4, 8),
      int('lbaLow', 5, 8),
      int('lbaMid', 6, 8),
      int('lbaHigh', 7, 8),
      int('device', 8, 8),
      int('command', 9, 8),
      control(11),
    ],
  }),
  spec({
    name: 'ATA PASS-THROUGH(16)',
    key: 'ata16',
    opcode: 0x85,
    length: 16,
    direction: 'none',
    fields: [
      int('multipleCount', 1, 3, 5),
      int('protocol', 1, 4, 1),
      flag('extend', 1, 0, '48-bit command'),
      int('offline', 2, 2, 6),
      flag('ckCond', 2, 5),
      flag('tType', 2, 4),
      flag('tDir', 2, 3),
      flag('byteBlock', 2, 2),
      int('tLength', 2, 2, 0),
      int('features', 3, 16, 0, 'FEATURES (15:8) then (7:0)'),
      int('count', 5, 16, 0, 'COUNT (15:8) then (7:0)'),
      int('lbaLowExt', 7, 8, 0, 'LBA (31:24)'),
      int('lbaLow', 8, 8, 0, 'LBA (7:0)'),
      int('lbaMidExt', 9, 8, 0, 'LBA (39:32)'),
      int('lbaMid', 10, 8, 0, 'LBA (15:8)'),
      int('lbaHighExt', 11, 8, 0, 'LBA (47:40)'),
      int('lbaHigh', 12, 8, 0, 'LBA (23:16)'),
      int('device', 13, 8),
      int('command', 14, 8),
      control(15),
    ],
  }),
]);

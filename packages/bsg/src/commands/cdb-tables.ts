/**
 * Field tables for the CDBs the device API builds that the core's table set does not have yet:
 * COMPARE AND WRITE (SBC-5 5.3), PERSISTENT RESERVE IN and OUT (SPC-6 6.16, 6.17). They use the
 * core's `CdbSpec` shape and are encoded by the core's `buildCdb`.
 * @module
 */
import type { CdbSpec, FieldSpec } from '@sgv4/core';

const int = (name: string, byte: number, width: number, bit = 0, description = ''): FieldSpec => ({
  name,
  kind: 'int',
  byte,
  bit,
  width,
  description,
});

/** COMPARE AND WRITE (SBC-5 5.3): opcode 0x89, 16 bytes; data-out is the verify data then the write data. */
export const COMPARE_AND_WRITE: CdbSpec = Object.freeze({
  name: 'COMPARE AND WRITE',
  key: 'compare-and-write',
  opcode: 0x89,
  length: 16,
  direction: 'out',
  fields: Object.freeze([
    int('operationCode', 0, 8, 0, 'OPERATION CODE'),
    int('wrprotect', 1, 3, 5, 'WRPROTECT'),
    int('dpo', 1, 1, 4, 'disable page out'),
    int('fua', 1, 1, 3, 'force unit access'),
    int('lba', 2, 64, 0, 'LOGICAL BLOCK ADDRESS'),
    int('numberOfLogicalBlocks', 13, 8, 0, 'NUMBER OF LOGICAL BLOCKS'),
    int('groupNumber', 14, 6, 0, 'GROUP NUMBER'),
    int('control', 15, 8, 0, 'CONTROL byte'),
  ]),
});

/** PERSISTENT RESERVE IN (SPC-6 6.16): opcode 0x5e, service action in byte 1. */
export const PERSISTENT_RESERVE_IN: CdbSpec = Object.freeze({
  name: 'PERSISTENT RESERVE IN',
  key: 'persistent-reserve-in',
  opcode: 0x5e,
  length: 10,
  direction: 'in',
  fields: Object.freeze([
    int('operationCode', 0, 8, 0, 'OPERATION CODE'),
    int(
      'action',
      1,
      5,
      0,
      'SERVICE ACTION: 0 READ KEYS, 1 READ RESERVATION, 2 REPORT CAPABILITIES, 3 READ FULL STATUS',
    ),
    int('allocationLength', 7, 16, 0, 'ALLOCATION LENGTH'),
    int('control', 9, 8, 0, 'CONTROL byte'),
  ]),
});

/** PERSISTENT RESERVE OUT (SPC-6 6.17): opcode 0x5f, scope and type in byte 2. */
export const PERSISTENT_RESERVE_OUT: CdbSpec = Object.freeze({
  name: 'PERSISTENT RESERVE OUT',
  key: 'persistent-reserve-out',
  opcode: 0x5f,
  length: 10,
  direction: 'out',
  fields: Object.freeze([
    int('operationCode', 0, 8, 0, 'OPERATION CODE'),
    int(
      'action',
      1,
      5,
      0,
      'SERVICE ACTION (named action: the core reserves serviceAction for table-fixed ones)',
    ),
    int('scope', 2, 4, 4, 'SCOPE (0 = logical unit)'),
    int('type', 2, 4, 0, 'TYPE of the reservation'),
    int('parameterListLength', 5, 32, 0, 'PARAMETER LIST LENGTH'),
    int('control', 9, 8, 0, 'CONTROL byte'),
  ]),
});

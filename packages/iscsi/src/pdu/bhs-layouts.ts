/**
 * The Basic Header Segment of every iSCSI PDU as a field table (RFC 7143 §11). Bytes 0 and
 * 4-7 are common to all PDUs and handled by the framing (see `pdu-codec.ts`): byte 0 holds the
 * I (immediate) bit 0x40 and the 6-bit opcode; byte 4 is TotalAHSLength (in 4-byte words);
 * bytes 5-7 are DataSegmentLength (bytes, excluding padding). Reserved fields are sent as zero
 * and ignored on receipt (§11.2.1).
 * @module
 */
import { hexByte } from '@sgv4/core';
import { defineLayout, type FieldLayout, field, type LayoutValues } from './field-layout.js';

const { u8, u16, u32, u64, flag, bits, bytes } = field;

/** The reserved tag value (RFC 7143 §11.2.1.8: ITT 0xffffffff; also "no TTT"). */
export const RESERVED_TAG = 0xffffffff;

/** Opcodes (RFC 7143 §11.2.1.2), initiator (0x00-0x1f) and target (0x20-0x3f). */
export const Opcode = {
  NOP_OUT: 0x00,
  SCSI_COMMAND: 0x01,
  TASK_MANAGEMENT_REQUEST: 0x02,
  LOGIN_REQUEST: 0x03,
  TEXT_REQUEST: 0x04,
  DATA_OUT: 0x05,
  LOGOUT_REQUEST: 0x06,
  SNACK_REQUEST: 0x10,
  NOP_IN: 0x20,
  SCSI_RESPONSE: 0x21,
  TASK_MANAGEMENT_RESPONSE: 0x22,
  LOGIN_RESPONSE: 0x23,
  TEXT_RESPONSE: 0x24,
  DATA_IN: 0x25,
  LOGOUT_RESPONSE: 0x26,
  R2T: 0x31,
  ASYNC_MESSAGE: 0x32,
  REJECT: 0x3f,
} as const;

/** One of the {@link Opcode} names. */
export type PduKind = keyof typeof Opcode;

/** The layouts, by PDU kind. */
export const BHS_LAYOUTS = {
  /** §11.18 NOP-Out. */
  NOP_OUT: defineLayout('NOP-Out', {
    final: flag(1, 0x80),
    lun: u64(8),
    itt: u32(16),
    ttt: u32(20),
    cmdSN: u32(24),
    expStatSN: u32(28),
  }),
  /** §11.3 SCSI Command. */
  SCSI_COMMAND: defineLayout('SCSI Command', {
    final: flag(1, 0x80),
    read: flag(1, 0x40),
    write: flag(1, 0x20),
    attribute: bits(1, 0, 3),
    lun: u64(8),
    itt: u32(16),
    expectedDataTransferLength: u32(20),
    cmdSN: u32(24),
    expStatSN: u32(28),
    cdb: bytes(32, 16),
  }),
  /** §11.5 Task Management Function Request. */
  TASK_MANAGEMENT_REQUEST: defineLayout('Task Management Function Request', {
    final: flag(1, 0x80),
    function: bits(1, 0, 7),
    lun: u64(8),
    itt: u32(16),
    referencedTaskTag: u32(20),
    cmdSN: u32(24),
    expStatSN: u32(28),
    refCmdSN: u32(32),
    expDataSN: u32(36),
  }),
  /** §11.12 Login Request. */
  LOGIN_REQUEST: defineLayout('Login Request', {
    transit: flag(1, 0x80),
    continue: flag(1, 0x40),
    csg: bits(1, 2, 2),
    nsg: bits(1, 0, 2),
    versionMax: u8(2),
    versionMin: u8(3),
    isid: bytes(8, 6),
    tsih: u16(14),
    itt: u32(16),
    cid: u16(20),
    cmdSN: u32(24),
    expStatSN: u32(28),
  }),
  /** §11.10 Text Request. */
  TEXT_REQUEST: defineLayout('Text Request', {
    final: flag(1, 0x80),
    continue: flag(1, 0x40),
    lun: u64(8),
    itt: u32(16),
    ttt: u32(20),
    cmdSN: u32(24),
    expStatSN: u32(28),
  }),
  /** §11.7 SCSI Data-Out. */
  DATA_OUT: defineLayout('SCSI Data-Out', {
    final: flag(1, 0x80),
    lun: u64(8),
    itt: u32(16),
    ttt: u32(20),
    expStatSN: u32(28),
    dataSN: u32(36),
    bufferOffset: u32(40),
  }),
  /** §11.14 Logout Request. */
  LOGOUT_REQUEST: defineLayout('Logout Request', {
    final: flag(1, 0x80),
    reasonCode: bits(1, 0, 7),
    itt: u32(16),
    cid: u16(20),
    cmdSN: u32(24),
    expStatSN: u32(28),
  }),
  /** §11.16 SNACK Request. */
  SNACK_REQUEST: defineLayout('SNACK Request', {
    final: flag(1, 0x80),
    type: bits(1, 0, 4),
    lun: u64(8),
    itt: u32(16),
    ttt: u32(20),
    expStatSN: u32(28),
    begRun: u32(40),
    runLength: u32(44),
  }),
  /** §11.19 NOP-In. */
  NOP_IN: defineLayout('NOP-In', {
    final: flag(1, 0x80),
    lun: u64(8),
    itt: u32(16),
    ttt: u32(20),
    statSN: u32(24),
    expCmdSN: u32(28),
    maxCmdSN: u32(32),
  }),
  /** §11.4 SCSI Response. */
  SCSI_RESPONSE: defineLayout('SCSI Response', {
    final: flag(1, 0x80),
    bidiReadOverflow: flag(1, 0x10),
    bidiReadUnderflow: flag(1, 0x08),
    overflow: flag(1, 0x04),
    underflow: flag(1, 0x02),
    response: u8(2),
    status: u8(3),
    itt: u32(16),
    snackTag: u32(20),
    statSN: u32(24),
    expCmdSN: u32(28),
    maxCmdSN: u32(32),
    expDataSN: u32(36),
    bidiReadResidualCount: u32(40),
    residualCount: u32(44),
  }),
  /** §11.6 Task Management Function Response. */
  TASK_MANAGEMENT_RESPONSE: defineLayout('Task Management Function Response', {
    final: flag(1, 0x80),
    response: u8(2),
    itt: u32(16),
    statSN: u32(24),
    expCmdSN: u32(28),
    maxCmdSN: u32(32),
  }),
  /** §11.13 Login Response. */
  LOGIN_RESPONSE: defineLayout('Login Response', {
    transit: flag(1, 0x80),
    continue: flag(1, 0x40),
    csg: bits(1, 2, 2),
    nsg: bits(1, 0, 2),
    versionMax: u8(2),
    versionActive: u8(3),
    isid: bytes(8, 6),
    tsih: u16(14),
    itt: u32(16),
    statSN: u32(24),
    expCmdSN: u32(28),
    maxCmdSN: u32(32),
    statusClass: u8(36),
    statusDetail: u8(37),
  }),
  /** §11.11 Text Response. */
  TEXT_RESPONSE: defineLayout('Text Response', {
    final: flag(1, 0x80),
    continue: flag(1, 0x40),
    lun: u64(8),
    itt: u32(16),
    ttt: u32(20),
    statSN: u32(24),
    expCmdSN: u32(28),
    maxCmdSN: u32(32),
  }),
  /** §11.7 SCSI Data-In. */
  DATA_IN: defineLayout('SCSI Data-In', {
    final: flag(1, 0x80),
    acknowledge: flag(1, 0x40),
    overflow: flag(1, 0x04),
    underflow: flag(1, 0x02),
    statusPresent: flag(1, 0x01),
    status: u8(3),
    lun: u64(8),
    itt: u32(16),
    ttt: u32(20),
    statSN: u32(24),
    expCmdSN: u32(28),
    maxCmdSN: u32(32),
    dataSN: u32(36),
    bufferOffset: u32(40),
    residualCount: u32(44),
  }),
  /** §11.15 Logout Response. */
  LOGOUT_RESPONSE: defineLayout('Logout Response', {
    final: flag(1, 0x80),
    response: u8(2),
    itt: u32(16),
    statSN: u32(24),
    expCmdSN: u32(28),
    maxCmdSN: u32(32),
    time2Wait: u16(40),
    time2Retain: u16(42),
  }),
  /** §11.8 Ready To Transfer (R2T). */
  R2T: defineLayout('R2T', {
    final: flag(1, 0x80),
    lun: u64(8),
    itt: u32(16),
    ttt: u32(20),
    statSN: u32(24),
    expCmdSN: u32(28),
    maxCmdSN: u32(32),
    r2tSN: u32(36),
    bufferOffset: u32(40),
    desiredDataTransferLength: u32(44),
  }),
  /** §11.9 Asynchronous Message. */
  ASYNC_MESSAGE: defineLayout('Asynchronous Message', {
    final: flag(1, 0x80),
    lun: u64(8),
    itt: u32(16),
    statSN: u32(24),
    expCmdSN: u32(28),
    maxCmdSN: u32(32),
    asyncEvent: u8(36),
    asyncVCode: u8(37),
    parameter1: u16(38),
    parameter2: u16(40),
    parameter3: u16(42),
  }),
  /** §11.17 Reject. */
  REJECT: defineLayout('Reject', {
    final: flag(1, 0x80),
    reason: u8(2),
    itt: u32(16),
    statSN: u32(24),
    expCmdSN: u32(28),
    maxCmdSN: u32(32),
    dataSN: u32(36),
  }),
} as const satisfies Record<PduKind, FieldLayout>;

/** The decoded BHS fields of a PDU kind. */
export type BhsFields<K extends PduKind> = LayoutValues<(typeof BHS_LAYOUTS)[K]>;

const KIND_BY_OPCODE = new Map<number, PduKind>(
  (Object.entries(Opcode) as [PduKind, number][]).map(([kind, code]) => [code, kind]),
);

/** The kind of an opcode, or undefined for opcodes RFC 7143 does not define (vendor 0x1c-0x1e, 0x3c-0x3e, reserved). */
export function pduKindOf(opcode: number): PduKind | undefined {
  return KIND_BY_OPCODE.get(opcode);
}

/** True for opcodes an initiator sends (0x00-0x1f, RFC 7143 §11.2.1.2). */
export function isInitiatorOpcode(opcode: number): boolean {
  return opcode < 0x20;
}

/** A readable name, e.g. `SCSI Command` or `opcode 0x1c`. */
export function opcodeName(opcode: number): string {
  const kind = pduKindOf(opcode);
  return kind === undefined ? `opcode ${hexByte(opcode)}` : BHS_LAYOUTS[kind].name;
}

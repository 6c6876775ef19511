/**
 * Encoder and decoder of the 160-byte `struct sg_io_v4`.
 *
 * Byte order is little-endian: the struct is native-endian and every Linux target the
 * project supports (x86-64, i386, arm64) is little-endian.
 * @module
 */
import { InvalidFieldError } from '../errors/invalid-field-error.js';
import { MalformedDataError } from '../errors/malformed-data-error.js';
import { SG_IO_V4_LAYOUT, SG_IO_V4_SIZE, type SgIoV4FieldType, type SgIoV4Header } from './header.js';

const U32_MAX = 0xffff_ffff;
const U64_MAX = 0xffff_ffff_ffff_ffffn;

const RANGES: Readonly<Record<SgIoV4FieldType, string>> = {
  s32: 'must be an integer in -2147483648..2147483647 (__s32)',
  u32: 'must be an integer in 0..4294967295 (__u32)',
  u64: 'must be a bigint in 0..2^64-1 (__u64)',
};

function checkField(name: string, type: SgIoV4FieldType, value: unknown): void {
  if (type === 'u64') {
    if (typeof value !== 'bigint' || value < 0n || value > U64_MAX) {
      throw new InvalidFieldError(name, RANGES.u64, value);
    }
    return;
  }
  const ok =
    typeof value === 'number' &&
    Number.isInteger(value) &&
    (type === 'u32' ? value >= 0 && value <= U32_MAX : value >= -0x8000_0000 && value <= 0x7fff_ffff);
  if (!ok) throw new InvalidFieldError(name, RANGES[type], value);
}

const isU32 = (v: unknown): boolean => typeof v === 'number' && v >>> 0 === v;
const isS32 = (v: unknown): boolean => typeof v === 'number' && (v | 0) === v;
const isU64 = (v: unknown): boolean => typeof v === 'bigint' && BigInt.asUintN(64, v) === v;

/** One pass of cheap checks; only when one fails does the table walk find and name the field. */
function allFieldsInRange(h: SgIoV4Header): boolean {
  return (
    isS32(h.guard) &&
    isU32(h.protocol) &&
    isU32(h.subprotocol) &&
    isU32(h.requestLen) &&
    isU64(h.request) &&
    isU64(h.requestTag) &&
    isU32(h.requestAttr) &&
    isU32(h.requestPriority) &&
    isU32(h.requestExtra) &&
    isU32(h.maxResponseLen) &&
    isU64(h.response) &&
    isU32(h.doutIovecCount) &&
    isU32(h.doutXferLen) &&
    isU32(h.dinIovecCount) &&
    isU32(h.dinXferLen) &&
    isU64(h.doutXferp) &&
    isU64(h.dinXferp) &&
    isU32(h.timeout) &&
    isU32(h.flags) &&
    isU64(h.usrPtr) &&
    isU32(h.spareIn) &&
    isU32(h.driverStatus) &&
    isU32(h.transportStatus) &&
    isU32(h.deviceStatus) &&
    isU32(h.retryDelay) &&
    isU32(h.info) &&
    isU32(h.duration) &&
    isU32(h.responseLen) &&
    isS32(h.dinResid) &&
    isS32(h.doutResid) &&
    isU64(h.generatedTag) &&
    isU32(h.spareOut) &&
    isU32(h.padding)
  );
}

/**
 * Writes `header` as 160 bytes into `target` at `offset` (a new buffer when `target` is
 * omitted) and returns the 160-byte view written. Every field is range-checked first, so a
 * bad field throws {@link InvalidFieldError} naming it and nothing is written.
 */
export function encodeSgIoV4(header: SgIoV4Header, target?: Uint8Array, offset = 0): Uint8Array {
  if (!allFieldsInRange(header)) {
    for (const f of SG_IO_V4_LAYOUT) checkField(f.name, f.type, header[f.name]);
  }
  const out = target ?? new Uint8Array(SG_IO_V4_SIZE);
  if (!Number.isInteger(offset) || offset < 0 || offset + SG_IO_V4_SIZE > out.length) {
    throw new InvalidFieldError(
      'offset',
      `must leave ${SG_IO_V4_SIZE} bytes in a target of ${out.length} bytes`,
      offset,
    );
  }
  const view = new DataView(out.buffer, out.byteOffset + offset, SG_IO_V4_SIZE);
  const h = header;
  view.setInt32(0, h.guard, true);
  view.setUint32(4, h.protocol, true);
  view.setUint32(8, h.subprotocol, true);
  view.setUint32(12, h.requestLen, true);
  view.setBigUint64(16, h.request, true);
  view.setBigUint64(24, h.requestTag, true);
  view.setUint32(32, h.requestAttr, true);
  view.setUint32(36, h.requestPriority, true);
  view.setUint32(40, h.requestExtra, true);
  view.setUint32(44, h.maxResponseLen, true);
  view.setBigUint64(48, h.response, true);
  view.setUint32(56, h.doutIovecCount, true);
  view.setUint32(60, h.doutXferLen, true);
  view.setUint32(64, h.dinIovecCount, true);
  view.setUint32(68, h.dinXferLen, true);
  view.setBigUint64(72, h.doutXferp, true);
  view.setBigUint64(80, h.dinXferp, true);
  view.setUint32(88, h.timeout, true);
  view.setUint32(92, h.flags, true);
  view.setBigUint64(96, h.usrPtr, true);
  view.setUint32(104, h.spareIn, true);
  view.setUint32(108, h.driverStatus, true);
  view.setUint32(112, h.transportStatus, true);
  view.setUint32(116, h.deviceStatus, true);
  view.setUint32(120, h.retryDelay, true);
  view.setUint32(124, h.info, true);
  view.setUint32(128, h.duration, true);
  view.setUint32(132, h.responseLen, true);
  view.setInt32(136, h.dinResid, true);
  view.setInt32(140, h.doutResid, true);
  view.setBigUint64(144, h.generatedTag, true);
  view.setUint32(152, h.spareOut, true);
  view.setUint32(156, h.padding, true);
  return out.subarray(offset, offset + SG_IO_V4_SIZE);
}

/**
 * Reads a header from 160 bytes of `bytes` at `offset`. Any bit pattern is a valid header
 * (the guard is not checked: a decoder shows what is there; bsg.c rejects guard != 'Q'),
 * so the only error is {@link MalformedDataError} when fewer than 160 bytes remain.
 */
export function decodeSgIoV4(bytes: Uint8Array, offset = 0): SgIoV4Header {
  if (!Number.isInteger(offset) || offset < 0) {
    throw new InvalidFieldError('offset', 'must be a non-negative integer', offset);
  }
  MalformedDataError.require('sg_io_v4 header', bytes, offset, SG_IO_V4_SIZE);
  const v = new DataView(bytes.buffer, bytes.byteOffset + offset, SG_IO_V4_SIZE);
  return {
    guard: v.getInt32(0, true),
    protocol: v.getUint32(4, true),
    subprotocol: v.getUint32(8, true),
    requestLen: v.getUint32(12, true),
    request: v.getBigUint64(16, true),
    requestTag: v.getBigUint64(24, true),
    requestAttr: v.getUint32(32, true),
    requestPriority: v.getUint32(36, true),
    requestExtra: v.getUint32(40, true),
    maxResponseLen: v.getUint32(44, true),
    response: v.getBigUint64(48, true),
    doutIovecCount: v.getUint32(56, true),
    doutXferLen: v.getUint32(60, true),
    dinIovecCount: v.getUint32(64, true),
    dinXferLen: v.getUint32(68, true),
    doutXferp: v.getBigUint64(72, true),
    dinXferp: v.getBigUint64(80, true),
    timeout: v.getUint32(88, true),
    flags: v.getUint32(92, true),
    usrPtr: v.getBigUint64(96, true),
    spareIn: v.getUint32(104, true),
    driverStatus: v.getUint32(108, true),
    transportStatus: v.getUint32(112, true),
    deviceStatus: v.getUint32(116, true),
    retryDelay: v.getUint32(120, true),
    info: v.getUint32(124, true),
    duration: v.getUint32(128, true),
    responseLen: v.getUint32(132, true),
    dinResid: v.getInt32(136, true),
    doutResid: v.getInt32(140, true),
    generatedTag: v.getBigUint64(144, true),
    spareOut: v.getUint32(152, true),
    padding: v.getUint32(156, true),
  };
}

/**
 * `struct sg_io_v4` (include/uapi/linux/bsg.h): its 33 fields, their layout, and
 * a constructor for a zeroed header.
 * @module
 */
import { SG_IO_V4_GUARD } from './constants.js';

/** sizeof(struct sg_io_v4): 160 bytes on every Linux ABI (all pointers are __u64). */
export const SG_IO_V4_SIZE = 160;

/**
 * One sg_io_v4 header, every field camelCased. Pointer and tag fields (__u64) are bigints;
 * the rest are numbers. `guard` and the residuals are signed 32-bit, everything else
 * unsigned 32-bit. `[i]` fields are inputs, `[o]` outputs (filled by the kernel).
 */
export interface SgIoV4Header {
  /** [i] `'Q'` (0x51). */
  guard: number;
  /** [i] 0 = SCSI. */
  protocol: number;
  /** [i] 0 = command, 1 = TMF, 2 = transport. */
  subprotocol: number;
  /** [i] CDB length in bytes. */
  requestLen: number;
  /** [i] user address of the CDB. */
  request: bigint;
  /** [i] SCSI task tag (only if flagged). */
  requestTag: bigint;
  /** [i] SCSI task attribute. */
  requestAttr: number;
  /** [i] SCSI task priority. */
  requestPriority: number;
  /** [i] spare; the sg v4 driver keeps pack_id here. */
  requestExtra: number;
  /** [i] size of the sense buffer. */
  maxResponseLen: number;
  /** [i] user address of the sense buffer. */
  response: bigint;
  /** [i] 0 = flat data-out buffer, else number of iovecs. */
  doutIovecCount: number;
  /** [i] bytes to the device. */
  doutXferLen: number;
  /** [i] 0 = flat data-in buffer, else number of iovecs. */
  dinIovecCount: number;
  /** [i] bytes from the device. */
  dinXferLen: number;
  /** [i] user address of the data-out buffer or iovec array. */
  doutXferp: bigint;
  /** [i] user address of the data-in buffer or iovec array. */
  dinXferp: bigint;
  /** [i] milliseconds; 0 = the device default. */
  timeout: number;
  /** [i] BSG_FLAG_* / SGV4_FLAG_* bits. */
  flags: number;
  /** [i->o] caller's cookie, returned unchanged. */
  usrPtr: bigint;
  /** [i] spare. */
  spareIn: number;
  /** [o] driver byte. */
  driverStatus: number;
  /** [o] host (transport) byte. */
  transportStatus: number;
  /** [o] SCSI status byte. */
  deviceStatus: number;
  /** [o] status auxiliary information. */
  retryDelay: number;
  /** [o] SG_INFO_* bits. */
  info: number;
  /** [o] milliseconds taken. */
  duration: number;
  /** [o] sense bytes written. */
  responseLen: number;
  /** [o] din_xfer_len - bytes actually read (signed). */
  dinResid: number;
  /** [o] dout_xfer_len - bytes actually written (signed). */
  doutResid: number;
  /** [o] tag the transport generated. */
  generatedTag: bigint;
  /** [o] spare. */
  spareOut: number;
  /** Padding to 160 bytes. */
  padding: number;
}

/** The C type of one header field. */
export type SgIoV4FieldType = 's32' | 'u32' | 'u64';

/** One row of the layout table. */
export interface SgIoV4FieldLayout {
  /** The camelCase field name. */
  readonly name: keyof SgIoV4Header;
  /** The C field name in bsg.h. */
  readonly cName: string;
  /** Byte offset. */
  readonly offset: number;
  /** C type. */
  readonly type: SgIoV4FieldType;
}

/**
 * The layout of struct sg_io_v4, in declaration order. The unit test proves every offset
 * against gcc's offsetof on `<linux/bsg.h>`.
 */
export const SG_IO_V4_LAYOUT: readonly SgIoV4FieldLayout[] = [
  { name: 'guard', cName: 'guard', offset: 0, type: 's32' },
  { name: 'protocol', cName: 'protocol', offset: 4, type: 'u32' },
  { name: 'subprotocol', cName: 'subprotocol', offset: 8, type: 'u32' },
  { name: 'requestLen', cName: 'request_len', offset: 12, type: 'u32' },
  { name: 'request', cName: 'request', offset: 16, type: 'u64' },
  { name: 'requestTag', cName: 'request_tag', offset: 24, type: 'u64' },
  { name: 'requestAttr', cName: 'request_attr', offset: 32, type: 'u32' },
  { name: 'requestPriority', cName: 'request_priority', offset: 36, type: 'u32' },
  { name: 'requestExtra', cName: 'request_extra', offset: 40, type: 'u32' },
  { name: 'maxResponseLen', cName: 'max_response_len', offset: 44, type: 'u32' },
  { name: 'response', cName: 'response', offset: 48, type: 'u64' },
  { name: 'doutIovecCount', cName: 'dout_iovec_count', offset: 56, type: 'u32' },
  { name: 'doutXferLen', cName: 'dout_xfer_len', offset: 60, type: 'u32' },
  { name: 'dinIovecCount', cName: 'din_iovec_count', offset: 64, type: 'u32' },
  { name: 'dinXferLen', cName: 'din_xfer_len', offset: 68, type: 'u32' },
  { name: 'doutXferp', cName: 'dout_xferp', offset: 72, type: 'u64' },
  { name: 'dinXferp', cName: 'din_xferp', offset: 80, type: 'u64' },
  { name: 'timeout', cName: 'timeout', offset: 88, type: 'u32' },
  { name: 'flags', cName: 'flags', offset: 92, type: 'u32' },
  { name: 'usrPtr', cName: 'usr_ptr', offset: 96, type: 'u64' },
  { name: 'spareIn', cName: 'spare_in', offset: 104, type: 'u32' },
  { name: 'driverStatus', cName: 'driver_status', offset: 108, type: 'u32' },
  { name: 'transportStatus', cName: 'transport_status', offset: 112, type: 'u32' },
  { name: 'deviceStatus', cName: 'device_status', offset: 116, type: 'u32' },
  { name: 'retryDelay', cName: 'retry_delay', offset: 120, type: 'u32' },
  { name: 'info', cName: 'info', offset: 124, type: 'u32' },
  { name: 'duration', cName: 'duration', offset: 128, type: 'u32' },
  { name: 'responseLen', cName: 'response_len', offset: 132, type: 'u32' },
  { name: 'dinResid', cName: 'din_resid', offset: 136, type: 's32' },
  { name: 'doutResid', cName: 'dout_resid', offset: 140, type: 's32' },
  { name: 'generatedTag', cName: 'generated_tag', offset: 144, type: 'u64' },
  { name: 'spareOut', cName: 'spare_out', offset: 152, type: 'u32' },
  { name: 'padding', cName: 'padding', offset: 156, type: 'u32' },
];

/** A header with guard `'Q'` and every other field 0, with `partial`'s fields applied. */
export function createSgIoV4Header(partial: Partial<SgIoV4Header> = {}): SgIoV4Header {
  return {
    guard: SG_IO_V4_GUARD,
    protocol: 0,
    subprotocol: 0,
    requestLen: 0,
    request: 0n,
    requestTag: 0n,
    requestAttr: 0,
    requestPriority: 0,
    requestExtra: 0,
    maxResponseLen: 0,
    response: 0n,
    doutIovecCount: 0,
    doutXferLen: 0,
    dinIovecCount: 0,
    dinXferLen: 0,
    doutXferp: 0n,
    dinXferp: 0n,
    timeout: 0,
    flags: 0,
    usrPtr: 0n,
    spareIn: 0,
    driverStatus: 0,
    transportStatus: 0,
    deviceStatus: 0,
    retryDelay: 0,
    info: 0,
    duration: 0,
    responseLen: 0,
    dinResid: 0,
    doutResid: 0,
    generatedTag: 0n,
    spareOut: 0,
    padding: 0,
    ...partial,
  };
}

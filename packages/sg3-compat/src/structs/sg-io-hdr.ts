/**
 * `struct sg_io_hdr` (include/scsi/sg.h): the sg v3 request/response header, 88 bytes on
 * LP64 and 64 bytes as the 32-bit `struct compat_sg_io_hdr`.
 * @module
 */
import { InvalidFieldError, SG_INTERFACE_ID_ORIG } from '@sgv4/core';
import type { SgAbi } from '../abi/c-abi.js';
import { StructCodec } from '../abi/struct-codec.js';

/**
 * One sg_io_hdr, every field camelCased. Pointers (`dxferp`, `cmdp`, `sbp`, `usr_ptr`) are
 * user addresses as bigints, 64-bit on LP64 and 32-bit on ILP32; every other field is a
 * number. `[i]` fields are inputs, `[o]` outputs filled by the driver, `[i->o]` returned as
 * given.
 */
export interface SgIoHdr {
  /** [i] `'S'` (0x53); sg answers anything else with ENOSYS, block SG_IO with EINVAL. */
  interfaceId: number;
  /** [i] SG_DXFER_* (a negative int; sg's write() takes a non-negative value for an old sg_header). */
  dxferDirection: number;
  /** [i] CDB length (sg accepts 6..252 and executes up to 32). */
  cmdLen: number;
  /** [i] size of the sense buffer at `sbp`. */
  mxSbLen: number;
  /** [i] 0: `dxferp` is the data buffer; n: `dxferp` points at n sg_iovec entries. */
  iovecCount: number;
  /** [i] bytes to transfer. */
  dxferLen: number;
  /** [i] address of the data buffer or of the iovec array. */
  dxferp: bigint;
  /** [i] address of the CDB. */
  cmdp: bigint;
  /** [i] address of the sense buffer. */
  sbp: bigint;
  /** [i] milliseconds; 0 = the driver's default. */
  timeout: number;
  /** [i] SG_FLAG_* bits. */
  flags: number;
  /** [i->o] the caller's request id, matched by read() under SG_SET_FORCE_PACK_ID. */
  packId: number;
  /** [i->o] the caller's cookie. */
  usrPtr: bigint;
  /** [o] SCSI status byte. */
  status: number;
  /** [o] `(status >> 1) & 0x7f`, the pre-SCSI-3 shifted status. */
  maskedStatus: number;
  /** [o] message byte (0, COMMAND COMPLETE, whenever a request ends with a non-zero result). */
  msgStatus: number;
  /** [o] sense bytes written at `sbp`. */
  sbLenWr: number;
  /** [o] host byte (DID_*). */
  hostStatus: number;
  /** [o] driver byte (DRIVER_SENSE when sense was returned). */
  driverStatus: number;
  /** [o] dxfer_len minus the bytes actually transferred. */
  resid: number;
  /** [o] milliseconds the request took. */
  duration: number;
  /** [o] SG_INFO_* bits. */
  info: number;
}

/** The members of struct sg_io_hdr in declaration order (include/scsi/sg.h). */
export const SG_IO_HDR = new StructCodec<SgIoHdr>('sg_io_hdr', [
  { name: 'interfaceId', cName: 'interface_id', type: 's32' },
  { name: 'dxferDirection', cName: 'dxfer_direction', type: 's32' },
  { name: 'cmdLen', cName: 'cmd_len', type: 'u8' },
  { name: 'mxSbLen', cName: 'mx_sb_len', type: 'u8' },
  { name: 'iovecCount', cName: 'iovec_count', type: 'u16' },
  { name: 'dxferLen', cName: 'dxfer_len', type: 'u32' },
  { name: 'dxferp', cName: 'dxferp', type: 'ptr' },
  { name: 'cmdp', cName: 'cmdp', type: 'ptr' },
  { name: 'sbp', cName: 'sbp', type: 'ptr' },
  { name: 'timeout', cName: 'timeout', type: 'u32' },
  { name: 'flags', cName: 'flags', type: 'u32' },
  { name: 'packId', cName: 'pack_id', type: 's32' },
  { name: 'usrPtr', cName: 'usr_ptr', type: 'ptr' },
  { name: 'status', cName: 'status', type: 'u8' },
  { name: 'maskedStatus', cName: 'masked_status', type: 'u8' },
  { name: 'msgStatus', cName: 'msg_status', type: 'u8' },
  { name: 'sbLenWr', cName: 'sb_len_wr', type: 'u8' },
  { name: 'hostStatus', cName: 'host_status', type: 'u16' },
  { name: 'driverStatus', cName: 'driver_status', type: 'u16' },
  { name: 'resid', cName: 'resid', type: 's32' },
  { name: 'duration', cName: 'duration', type: 'u32' },
  { name: 'info', cName: 'info', type: 'u32' },
]);

/** sizeof(struct sg_io_hdr) on LP64: 88 (padding at 52..55 and 84..87). */
export const SG_IO_HDR_SIZE = SG_IO_HDR.size('lp64');
/** sizeof(struct compat_sg_io_hdr), the ILP32 layout: 64 (no padding). */
export const COMPAT_SG_IO_HDR_SIZE = SG_IO_HDR.size('ilp32');

/** The sg_io_hdr output fields (`[o]`), which sg clears at submission (`sg_common_write()`). */
export const SG_IO_HDR_OUTPUTS = [
  'status',
  'maskedStatus',
  'msgStatus',
  'sbLenWr',
  'hostStatus',
  'driverStatus',
  'resid',
  'duration',
  'info',
] as const satisfies readonly (keyof SgIoHdr)[];

/** A header with interface_id `'S'` and every other field 0, with `partial`'s fields applied. */
export function createSgIoHdr(partial: Partial<SgIoHdr> = {}): SgIoHdr {
  return {
    interfaceId: SG_INTERFACE_ID_ORIG,
    dxferDirection: 0,
    cmdLen: 0,
    mxSbLen: 0,
    iovecCount: 0,
    dxferLen: 0,
    dxferp: 0n,
    cmdp: 0n,
    sbp: 0n,
    timeout: 0,
    flags: 0,
    packId: 0,
    usrPtr: 0n,
    status: 0,
    maskedStatus: 0,
    msgStatus: 0,
    sbLenWr: 0,
    hostStatus: 0,
    driverStatus: 0,
    resid: 0,
    duration: 0,
    info: 0,
    ...partial,
  };
}

/**
 * Writes `header` in the `abi` layout (88 or 64 bytes) into `target` at `offset`, or into a
 * new buffer. Every field is range-checked first (pointers must fit 32 bits on ILP32), so a
 * bad field throws InvalidFieldError naming it and nothing is written.
 */
export function encodeSgIoHdr(header: SgIoHdr, abi: SgAbi, target?: Uint8Array, offset = 0): Uint8Array {
  return SG_IO_HDR.encode(header, abi, target, offset);
}

/** Reads a header in the `abi` layout. Any bit pattern decodes; MalformedDataError when too short. */
export function decodeSgIoHdr(bytes: Uint8Array, abi: SgAbi, offset = 0): SgIoHdr {
  return SG_IO_HDR.decode(bytes, abi, offset);
}

/**
 * The ABI of a header passed as exactly 88 (LP64) or 64 (ILP32) bytes, the way a caller hands
 * the facade the struct it built. Any other length is an InvalidFieldError: the two sizes are
 * the only ones the kernel copies (`get_sg_io_hdr()`).
 */
export function sgIoHdrAbiOf(bytes: Uint8Array): SgAbi {
  if (bytes.length === SG_IO_HDR_SIZE) return 'lp64';
  if (bytes.length === COMPAT_SG_IO_HDR_SIZE) return 'ilp32';
  throw new InvalidFieldError(
    'header',
    `must be ${SG_IO_HDR_SIZE} bytes (struct sg_io_hdr, LP64) or ${COMPAT_SG_IO_HDR_SIZE} bytes (struct compat_sg_io_hdr, ILP32)`,
    bytes,
  );
}

/**
 * The canonical {@link ScsiRequest} -> sg_io_hdr (v3): lossless where v3 can say it, an
 * {@link InvalidFieldError} naming the field where it cannot (the sg_pt_linux.c rule of
 * sg3_utils: one canonical v4-shaped request, down-converted or refused).
 * @module
 */
import {
  type DataBuffer,
  InvalidFieldError,
  SCSI_SENSE_BUFFERSIZE,
  type ScsiRequest,
  SG_FLAG_DIRECT_IO,
  SG_FLAG_MMAP_IO,
  SG_FLAG_NO_DXFER,
  SG_FLAG_Q_AT_HEAD,
  SG_FLAG_Q_AT_TAIL,
  SG_FLAG_UNUSED_LUN_INHIBIT,
  SG_MAX_CDB_SIZE,
} from '@sgv4/core';
import type { SgAbi } from '../abi/c-abi.js';
import { SG_MIN_CDB_SIZE } from '../constants.js';
import { createSgIoHdr, type SgIoHdr } from '../structs/sg-io-hdr.js';
import { dxferDirectionOf, queuePositionOf, type SgInterface } from './interface-rules.js';
import type { SgV3Fields } from './request-from-v3.js';

/** Where a request's buffers are in the caller's memory, for a request that did not come from a v3 header. */
export interface SgV3Addresses {
  /** The CDB's address. */
  readonly cdb: bigint;
  /** The sense buffer's address (0 / absent: no sense is returned). */
  readonly sense?: bigint;
  /** The data buffer's address, or the iovec array's when the data is a list of buffers. */
  readonly data?: bigint;
}

/** Options of {@link sgIoHdrFromRequest}. */
export interface SgIoHdrFromRequestOptions {
  /** The ABI the header is for: pointers must then fit 32 bits on ILP32. */
  readonly abi: SgAbi;
  /** The interface it is for (default `sg`): sets the CDB limits and how queueAt is written. */
  readonly interface?: SgInterface;
  /** The v3 facts {@link translateSgIoHdr} kept: the header is then rebuilt exactly. */
  readonly v3?: SgV3Fields;
  /** The buffers' addresses, when `v3` is absent. */
  readonly addresses?: SgV3Addresses;
}

/** v3 flag bits a request's `flags` may carry into a header (queue bits come from `queueAt`). */
const CARRIED_FLAGS = SG_FLAG_DIRECT_IO | SG_FLAG_UNUSED_LUN_INHIBIT | SG_FLAG_MMAP_IO | SG_FLAG_NO_DXFER;

function dataShape(field: string, data: DataBuffer | undefined): { length: number; iovecs: number } {
  if (data === undefined) return { length: 0, iovecs: 0 };
  if (data instanceof Uint8Array) return { length: data.length, iovecs: 0 };
  if (!Array.isArray(data) || data.some((b) => !(b instanceof Uint8Array))) {
    throw new InvalidFieldError(field, 'must be a Uint8Array or an array of Uint8Array (iovecs)', data);
  }
  if (data.length === 0 || data.length > 0xffff) {
    throw new InvalidFieldError(field, 'must have 1..65535 iovecs (sg_io_hdr.iovec_count is 16 bits)', data);
  }
  return { length: data.reduce((n, b) => n + b.length, 0), iovecs: data.length };
}

function pointer(field: string, value: bigint, abi: SgAbi): bigint {
  const max = abi === 'lp64' ? 0xffff_ffff_ffff_ffffn : 0xffff_ffffn;
  if (typeof value !== 'bigint' || value < 0n || value > max) {
    throw new InvalidFieldError(
      field,
      abi === 'ilp32'
        ? 'must fit a 32-bit pointer (compat_uptr_t) in an ILP32 sg_io_hdr'
        : 'must be a bigint in 0..2^64-1',
      value,
    );
  }
  return value;
}

/**
 * Builds the sg_io_hdr that carries `request`. Refused, each with an InvalidFieldError naming
 * the request's field: data in both directions (`dataOut`: a v3 header has one direction and
 * one dxferp; Linux >= 5.1 refuses bidi on every path anyway); a CDB outside 6..252 bytes on sg
 * or 6..32 on block (`cdb`: the interface answers EMSGSIZE or EINVAL, so v3 cannot send it); a
 * task attribute other than SIMPLE (`attribute`) or a priority (`priority`), for which v3 has
 * no field; `maxSenseLength` over 255 (mx_sb_len is a byte); `flags` bits v3 does not define;
 * `timeoutMs` or a length over 32 bits; `usrPtr` or an address over 32 bits on ILP32. The task
 * tag is not carried: the compat layer keeps the pack_id <-> tag mapping itself.
 *
 * With `v3` (from {@link translateSgIoHdr}) the pointers, direction, dxfer_len, iovec_count and
 * flags come from it, and the request must agree with them (the same direction, queue position
 * and SG_FLAG_DIRECT_IO), so translate-then-rebuild is the identity.
 */
export function sgIoHdrFromRequest(request: ScsiRequest, options: SgIoHdrFromRequestOptions): SgIoHdr {
  const iface = options.interface ?? options.v3?.interface ?? 'sg';
  const abi = options.abi;
  const { cdb } = request;
  const maxCdb = iface === 'sg' ? SG_MAX_CDB_SIZE : 32;
  if (!(cdb instanceof Uint8Array) || cdb.length < SG_MIN_CDB_SIZE || cdb.length > maxCdb) {
    throw new InvalidFieldError(
      'cdb',
      `must be ${SG_MIN_CDB_SIZE}..${maxCdb} bytes for sg_io_hdr on ${iface === 'sg' ? 'the sg driver' : 'block SG_IO'} (shorter or longer is EMSGSIZE/EINVAL there)`,
      cdb,
    );
  }
  const out = dataShape('dataOut', request.dataOut);
  const din = dataShape('dataIn', request.dataIn);
  if (request.dataOut !== undefined && request.dataIn !== undefined) {
    throw new InvalidFieldError(
      'dataOut',
      'cannot be combined with dataIn: sg_io_hdr has one direction and one dxferp (bidirectional transfers are not expressible in v3)',
      request.dataOut,
    );
  }
  if (request.attribute !== undefined && request.attribute !== 'SIMPLE') {
    throw new InvalidFieldError(
      'attribute',
      'sg_io_hdr has no task attribute field: only SIMPLE (the default) is expressible',
      request.attribute,
    );
  }
  if (request.priority !== undefined && request.priority !== 0) {
    throw new InvalidFieldError(
      'priority',
      'sg_io_hdr has no priority field: only 0 is expressible',
      request.priority,
    );
  }
  const mxSbLen = request.maxSenseLength ?? SCSI_SENSE_BUFFERSIZE;
  if (!Number.isInteger(mxSbLen) || mxSbLen < 0 || mxSbLen > 0xff) {
    throw new InvalidFieldError(
      'maxSenseLength',
      'must be an integer in 0..255 (sg_io_hdr.mx_sb_len is one byte)',
      mxSbLen,
    );
  }
  const timeout = request.timeoutMs ?? 0;
  if (!Number.isInteger(timeout) || timeout < 0 || timeout > 0xffff_ffff) {
    throw new InvalidFieldError(
      'timeoutMs',
      'must be an integer in 0..4294967295 (sg_io_hdr.timeout)',
      timeout,
    );
  }
  const packId = request.packId ?? 0;
  if (!Number.isInteger(packId) || packId < 0 || packId > 0xffff_ffff) {
    throw new InvalidFieldError(
      'packId',
      'must be an integer in 0..4294967295 (the u32 pattern of pack_id)',
      packId,
    );
  }
  const extra = request.flags ?? 0;
  if (!Number.isInteger(extra) || extra < 0 || (extra & ~CARRIED_FLAGS) !== 0) {
    throw new InvalidFieldError(
      'flags',
      `may hold only SG_FLAG_DIRECT_IO, SG_FLAG_UNUSED_LUN_INHIBIT, SG_FLAG_MMAP_IO and SG_FLAG_NO_DXFER (0x${CARRIED_FLAGS.toString(16)}); the queue position is queueAt`,
      extra,
    );
  }
  const usrPtr = pointer('usrPtr', request.usrPtr ?? 0n, abi);
  const data = request.dataOut !== undefined ? out : din;
  if (data.length > 0xffff_ffff) {
    throw new InvalidFieldError(
      request.dataOut !== undefined ? 'dataOut' : 'dataIn',
      'must total less than 4 GiB (dxfer_len is 32 bits)',
      data.length,
    );
  }
  const common = {
    cmdLen: cdb.length,
    mxSbLen,
    timeout,
    packId: packId | 0,
    usrPtr,
  };
  const v3 = options.v3;
  if (v3 !== undefined) {
    const carriedOut = request.dataOut !== undefined;
    const expectsOut = v3.data.direction === 'to-device';
    const expectsData = v3.data.direction !== 'none';
    if (
      carriedOut !== (expectsOut && expectsData) ||
      (request.dataIn !== undefined) !== (!expectsOut && expectsData)
    ) {
      throw new InvalidFieldError(
        'dataIn',
        `disagrees with the v3 direction ${v3.data.direction}`,
        request.dataIn ?? request.dataOut,
      );
    }
    const queueAt = request.queueAt ?? queuePositionOf(v3.flags, iface);
    if (queueAt !== queuePositionOf(v3.flags, iface)) {
      throw new InvalidFieldError(
        'queueAt',
        `disagrees with the v3 flags 0x${v3.flags.toString(16)} on ${iface}`,
        request.queueAt,
      );
    }
    if ((extra & SG_FLAG_DIRECT_IO) !== (v3.flags & SG_FLAG_DIRECT_IO)) {
      throw new InvalidFieldError('flags', 'SG_FLAG_DIRECT_IO disagrees with the v3 flags', extra);
    }
    return createSgIoHdr({
      ...common,
      dxferDirection: v3.dxferDirection,
      iovecCount: v3.iovecCount,
      dxferLen: v3.dxferLen,
      dxferp: pointer('dxferp', v3.dxferp, abi),
      cmdp: pointer('cmdp', v3.cmdp, abi),
      sbp: pointer('sbp', v3.sbp, abi),
      flags: v3.flags,
    });
  }
  const addresses = options.addresses;
  if (addresses === undefined) {
    throw new InvalidFieldError(
      'addresses',
      'are required to build a header for a request that did not come from one',
      addresses,
    );
  }
  const direction =
    request.dataOut !== undefined ? 'to-device' : request.dataIn !== undefined ? 'from-device' : 'none';
  const queueAt = request.queueAt;
  if (queueAt !== undefined && queueAt !== 'head' && queueAt !== 'tail') {
    throw new InvalidFieldError('queueAt', "must be 'head' or 'tail'", queueAt);
  }
  const queueBits = queueAt === 'head' ? SG_FLAG_Q_AT_HEAD : queueAt === 'tail' ? SG_FLAG_Q_AT_TAIL : 0;
  return createSgIoHdr({
    ...common,
    dxferDirection: dxferDirectionOf(direction),
    iovecCount: data.iovecs,
    dxferLen: data.length,
    dxferp: pointer('addresses.data', addresses.data ?? 0n, abi),
    cmdp: pointer('addresses.cdb', addresses.cdb, abi),
    sbp: pointer('addresses.sense', addresses.sense ?? 0n, abi),
    flags: (extra | queueBits) >>> 0,
  });
}

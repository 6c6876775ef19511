/**
 * sg_io_hdr (v3) -> the canonical v4-shaped {@link ScsiRequest}, step by step in the order the
 * kernel takes them, each failing with the errno the kernel gives:
 * the sg driver's `sg_new_write()` -> `sg_common_write()` -> `sg_start_req()` ->
 * block/blk-map.c `blk_rq_map_user_io()`, or for block SG_IO drivers/scsi/scsi_ioctl.c
 * `sg_io()` -> `scsi_fill_sghdr_rq()`.
 *
 * The steps that depend on an sg fd's state (the queue's EDOM, SG_FLAG_MMAP_IO's ENOMEM /
 * EINVAL / EBUSY, the reserve) belong to the fd model; a facade interleaves them with these.
 * @module
 */
import {
  InvalidFieldError,
  MAX_CDB_LENGTH,
  type ScsiRequest,
  SG_DXFER_FROM_DEV,
  SG_DXFER_TO_DEV,
  SG_DXFER_TO_FROM_DEV,
  SG_FLAG_DIRECT_IO,
  SG_FLAG_MMAP_IO,
  SG_INTERFACE_ID_ORIG,
  SG_MAX_CDB_SIZE,
  SG_MAX_DXFER_LEN,
  type TransferDirection,
} from '@sgv4/core';
import type { SgAbi } from '../abi/c-abi.js';
import { SG_MIN_CDB_SIZE } from '../constants.js';
import type { UserMemory } from '../memory/user-memory.js';
import { SgDriverError } from '../sg-driver-error.js';
import type { SgIoHdr } from '../structs/sg-io-hdr.js';
import { decodeSgIovecs, sgIovecSize } from '../structs/sg-iovec.js';
import { queuePositionOf, type SgInterface, transferDirectionOf } from './interface-rules.js';

/** UIO_MAXIOV (include/uapi/linux/uio.h): the most iovecs `import_iovec()` takes (more -> EINVAL). */
export const UIO_MAXIOV = 1024;
/** MAX_RW_COUNT (include/linux/fs.h): INT_MAX & PAGE_MASK, where `__import_iovec()` caps the total. */
export const MAX_RW_COUNT = 0x7fff_f000;

/** Where and how a header is being submitted. */
export interface SgV3Context {
  /** The caller's ABI: pointer width and the iovec layout (16 or 8 bytes an entry). */
  readonly abi: SgAbi;
  /** The caller's memory, which the header's pointers address. */
  readonly memory: UserMemory;
  /** The interface whose rules apply (default `sg`). */
  readonly interface?: SgInterface;
  /** The call named in errors (default `ioctl(SG_IO)`). */
  readonly syscall?: string;
}

/** A run of the caller's memory. */
export interface SgUserSegment {
  /** User address. */
  readonly address: bigint;
  /** Bytes. */
  readonly length: number;
}

/** How a header's data maps onto the caller's memory (`blk_rq_map_user_io()`). */
export interface SgV3DataMapping {
  /** What moves: `none` when nothing does (NONE, or dxfer_len 0). */
  readonly direction: TransferDirection;
  /** Bytes that move: dxfer_len, or the iovec total when that is shorter ("the shorter of the two wins"). */
  readonly length: number;
  /** The caller's memory holding the data, in order (empty when nothing moves or the data stays in the mmap-ed reserve). */
  readonly segments: readonly SgUserSegment[];
  /** True when `dxferp` pointed at an iovec array (iovec_count > 0). */
  readonly viaIovec: boolean;
  /**
   * sg with a NULL dxferp (`null_mapped`, with SG_FLAG_MMAP_IO or without): the data stays in
   * sg's buffer and nothing is copied to or from the caller.
   */
  readonly nullMapped: boolean;
}

function syscallOf(ctx: SgV3Context): string {
  return ctx.syscall ?? 'ioctl(SG_IO)';
}

function ifaceOf(ctx: SgV3Context): SgInterface {
  return ctx.interface ?? 'sg';
}

/**
 * interface_id must be `'S'`: sg answers ENOSYS (`sg_new_write()`), block SG_IO EINVAL (`sg_io()`).
 */
export function checkSgV3InterfaceId(hdr: SgIoHdr, ctx: SgV3Context): void {
  if (hdr.interfaceId === SG_INTERFACE_ID_ORIG) return;
  if (ifaceOf(ctx) === 'sg') {
    throw new SgDriverError('ENOSYS', syscallOf(ctx), "interface_id is not 'S'", 'sg_new_write');
  }
  throw new SgDriverError('EINVAL', syscallOf(ctx), "interface_id is not 'S'", 'sg_io (scsi_ioctl.c)');
}

/**
 * Copies the CDB from cmdp. sg: a NULL cmdp or cmd_len outside 6..252 is EMSGSIZE
 * (`sg_new_write()`); block: cmd_len < 6 is EMSGSIZE (`scsi_fill_sghdr_rq()`; block refuses
 * > 32 with EINVAL first, in `sg_io()`). An unmapped CDB is EFAULT. The bytes are copied, as
 * the kernel copies them at submission.
 */
export function fetchSgV3Cdb(hdr: SgIoHdr, ctx: SgV3Context): Uint8Array {
  const call = syscallOf(ctx);
  if (ifaceOf(ctx) === 'sg') {
    if (hdr.cmdp === 0n || hdr.cmdLen < SG_MIN_CDB_SIZE || hdr.cmdLen > SG_MAX_CDB_SIZE) {
      throw new SgDriverError(
        'EMSGSIZE',
        call,
        `cmdp is NULL or cmd_len ${hdr.cmdLen} is outside ${SG_MIN_CDB_SIZE}..${SG_MAX_CDB_SIZE}`,
        'sg_new_write',
      );
    }
  } else {
    if (hdr.cmdLen > MAX_CDB_LENGTH) {
      throw new SgDriverError(
        'EINVAL',
        call,
        `cmd_len ${hdr.cmdLen} exceeds ${MAX_CDB_LENGTH}`,
        'sg_io (scsi_ioctl.c)',
      );
    }
    if (hdr.cmdLen < SG_MIN_CDB_SIZE) {
      throw new SgDriverError(
        'EMSGSIZE',
        call,
        `cmd_len ${hdr.cmdLen} is below 6`,
        'scsi_fill_sghdr_rq (scsi_ioctl.c)',
      );
    }
  }
  const cdb = ctx.memory.view(hdr.cmdp, hdr.cmdLen);
  if (cdb === undefined) {
    throw new SgDriverError(
      'EFAULT',
      call,
      `cmdp 0x${hdr.cmdp.toString(16)} is not mapped for ${hdr.cmdLen} bytes`,
      'copy_from_user',
    );
  }
  return cdb.slice();
}

/**
 * The sg driver's checks between the CDB and the data: dxfer_len >= 256 MiB is EINVAL
 * (`sg_common_write()`), then a CDB longer than 32 bytes (sizeof scsi_cmnd.cmnd) is EINVAL
 * (`sg_start_req()`). Block SG_IO checked the CDB length before fetching it.
 */
export function checkSgV3Lengths(hdr: SgIoHdr, ctx: SgV3Context): void {
  if (ifaceOf(ctx) !== 'sg') return;
  const call = syscallOf(ctx);
  if (hdr.dxferLen >= SG_MAX_DXFER_LEN) {
    throw new SgDriverError(
      'EINVAL',
      call,
      `dxfer_len ${hdr.dxferLen} is 256 MiB or more`,
      'sg_common_write',
    );
  }
  if (hdr.cmdLen > MAX_CDB_LENGTH) {
    throw new SgDriverError(
      'EINVAL',
      call,
      `cmd_len ${hdr.cmdLen} exceeds ${MAX_CDB_LENGTH} (sizeof scsi_cmnd.cmnd)`,
      'sg_start_req',
    );
  }
}

/**
 * Block SG_IO's own data checks (`sg_io()`): with data (dxfer_len > 0), the direction must be
 * TO_DEV, FROM_DEV or TO_FROM_DEV (else EINVAL); `maxTransferBytes` (max_hw_sectors << 9)
 * bounds dxfer_len (EIO). No-op for sg.
 */
export function checkSgV3BlockData(hdr: SgIoHdr, ctx: SgV3Context, maxTransferBytes?: number): void {
  if (ifaceOf(ctx) !== 'block') return;
  const call = syscallOf(ctx);
  if (maxTransferBytes !== undefined && hdr.dxferLen > maxTransferBytes) {
    throw new SgDriverError(
      'EIO',
      call,
      `dxfer_len ${hdr.dxferLen} exceeds max_hw_sectors (${maxTransferBytes} bytes)`,
      'sg_io (scsi_ioctl.c)',
    );
  }
  if (hdr.dxferLen > 0 && !BLOCK_DATA_DIRECTIONS.includes(hdr.dxferDirection)) {
    throw new SgDriverError(
      'EINVAL',
      call,
      `dxfer_direction ${hdr.dxferDirection} with data`,
      'sg_io (scsi_ioctl.c)',
    );
  }
}

/** The directions block SG_IO accepts with data (`sg_io()`'s switch). */
const BLOCK_DATA_DIRECTIONS: readonly number[] = [SG_DXFER_TO_DEV, SG_DXFER_FROM_DEV, SG_DXFER_TO_FROM_DEV];

/** The caller's ABI's most positive ssize_t + 1: an iov_len at or above it is negative to the kernel. */
function ssizeLimit(abi: SgAbi): bigint {
  return abi === 'lp64' ? 1n << 63n : 1n << 31n;
}

/**
 * Maps the data the way `sg_start_req()` / `sg_io()` hand it to `blk_rq_map_user_io()`:
 * sg moves nothing when (int)dxfer_len <= 0 or the direction is NONE; block when dxfer_len is 0.
 * With iovec_count > 0 the iovec array at dxferp is read in the caller's layout (8-byte
 * entries for ILP32, never 16), more than 1024 entries is EINVAL, a negative (ssize_t) length
 * EINVAL, an unmapped array EFAULT (`import_iovec()`); the total is capped at MAX_RW_COUNT and
 * then truncated to dxfer_len, and an empty result is EINVAL (`blk_rq_map_user_io()`, sg only).
 * On sg a NULL dxferp without iovecs is null-mapped (the sg_read-style mmap-ed request): no
 * caller memory at all, except that TO_FROM_DEV then copies in from address 0 (EFAULT).
 */
export function mapSgV3Data(hdr: SgIoHdr, ctx: SgV3Context): SgV3DataMapping {
  const iface = ifaceOf(ctx);
  const call = syscallOf(ctx);
  const direction = transferDirectionOf(hdr.dxferDirection);
  const none: SgV3DataMapping = {
    direction: 'none',
    length: 0,
    segments: [],
    viaIovec: false,
    nullMapped: false,
  };
  if (iface === 'sg' && ((hdr.dxferLen | 0) <= 0 || direction === 'none')) return none;
  if (iface === 'block' && hdr.dxferLen === 0) return none;
  if (iface === 'sg' && hdr.iovecCount === 0 && hdr.dxferp === 0n) {
    // sg_start_req(): md->null_mapped = !dxferp. The data stays in sg's buffer (the mmap-ed
    // reserve, sg_read style); only SG_DXFER_TO_FROM_DEV still copies in, from address 0.
    if (direction === 'to-from-device') {
      throw new SgDriverError(
        'EFAULT',
        call,
        'SG_DXFER_TO_FROM_DEV with a NULL dxferp copies in from address 0',
        'bio_copy_user_iov (block/blk-map.c)',
      );
    }
    return { direction, length: hdr.dxferLen, segments: [], viaIovec: false, nullMapped: true };
  }
  if (hdr.iovecCount === 0) {
    return {
      direction,
      length: hdr.dxferLen,
      segments: [{ address: hdr.dxferp, length: hdr.dxferLen }],
      viaIovec: false,
      nullMapped: false,
    };
  }
  if (hdr.iovecCount > UIO_MAXIOV) {
    throw new SgDriverError(
      'EINVAL',
      call,
      `iovec_count ${hdr.iovecCount} exceeds UIO_MAXIOV (${UIO_MAXIOV})`,
      'iovec_from_user (lib/iov_iter.c)',
    );
  }
  const entrySize = sgIovecSize(ctx.abi);
  const array = ctx.memory.view(hdr.dxferp, hdr.iovecCount * entrySize);
  if (array === undefined) {
    throw new SgDriverError(
      'EFAULT',
      call,
      `the iovec array at dxferp 0x${hdr.dxferp.toString(16)} (${hdr.iovecCount} x ${entrySize} bytes, ${ctx.abi}) is not mapped`,
      ctx.abi === 'ilp32'
        ? 'copy_compat_iovec_from_user (lib/iov_iter.c)'
        : 'copy_iovec_from_user (lib/iov_iter.c)',
    );
  }
  const iovecs = decodeSgIovecs(array, ctx.abi, hdr.iovecCount);
  const limit = ssizeLimit(ctx.abi);
  iovecs.forEach((iov, i) => {
    if (iov.length >= limit) {
      throw new SgDriverError(
        'EINVAL',
        call,
        `iovec[${i}].iov_len is negative as ssize_t`,
        'iovec_from_user (lib/iov_iter.c)',
      );
    }
  });
  const segments: SgUserSegment[] = [];
  let total = 0;
  for (const iov of iovecs) {
    const length = Math.min(Number(iov.length), MAX_RW_COUNT - total);
    segments.push({ address: iov.base, length });
    total += length;
  }
  // "the shorter of the two wins": truncate the iovec total to dxfer_len.
  let left = Math.min(total, hdr.dxferLen);
  const truncated: SgUserSegment[] = [];
  for (const s of segments) {
    const length = Math.min(s.length, left);
    truncated.push({ address: s.address, length });
    left -= length;
  }
  const length = Math.min(total, hdr.dxferLen);
  if (iface === 'sg' && length === 0) {
    throw new SgDriverError(
      'EINVAL',
      call,
      'the iovecs hold no bytes (after truncation to dxfer_len)',
      'blk_rq_map_user_io (block/blk-map.c)',
    );
  }
  return { direction, length, segments: truncated, viaIovec: true, nullMapped: false };
}

/**
 * Views of the caller's memory for `segments`, or EFAULT for the first one that is not mapped
 * (the kernel faults when it pins or copies it).
 */
export function resolveSgUserSegments(
  segments: readonly SgUserSegment[],
  memory: UserMemory,
  syscall = 'ioctl(SG_IO)',
): Uint8Array[] {
  return segments.map((s, i) => {
    const view = memory.view(s.address, s.length);
    if (view === undefined) {
      throw new SgDriverError(
        'EFAULT',
        syscall,
        `data ${segments.length > 1 ? `iovec[${i}] ` : ''}at 0x${s.address.toString(16)} is not mapped for ${s.length} bytes`,
        'copy_from_user / pin_user_pages',
      );
    }
    return view;
  });
}

/** Options of {@link translateSgIoHdr}. */
export interface SgV3TranslateOptions extends SgV3Context {
  /** The task tag the request gets (the facade's pack_id <-> tag table maps it back). */
  readonly tag: bigint;
  /**
   * The fd's reserved buffer, where SG_FLAG_MMAP_IO data lives (required for an mmap-ed request
   * with data); a null-mapped request without the flag uses it too when it fits.
   */
  readonly reserve?: Uint8Array;
  /** Block SG_IO's max_hw_sectors << 9, for its EIO check (absent: not checked). */
  readonly maxTransferBytes?: number;
}

/** The v3 facts a {@link ScsiRequest} has no field for, kept so the header can be rebuilt. */
export interface SgV3Fields {
  /** The caller's ABI. */
  readonly abi: SgAbi;
  /** The interface whose rules were applied. */
  readonly interface: SgInterface;
  /** `dxfer_direction` as given (any int). */
  readonly dxferDirection: number;
  /** `dxfer_len` as given. */
  readonly dxferLen: number;
  /** `iovec_count`. */
  readonly iovecCount: number;
  /** `dxferp`: the data buffer's or iovec array's address. */
  readonly dxferp: bigint;
  /** `cmdp`. */
  readonly cmdp: bigint;
  /** `sbp`: where sense goes back (written at completion: an unmapped one faults then, not now). */
  readonly sbp: bigint;
  /** `flags` as given, every bit (the request's `flags` holds only those with a v4 meaning). */
  readonly flags: number;
  /** How the data maps onto the caller's memory. */
  readonly data: SgV3DataMapping;
  /** The caller's data as views, one per segment (empty when none or null-mapped). */
  readonly user: readonly Uint8Array[];
  /**
   * TO_FROM_DEV: the caller's bytes are the data-in buffer's starting contents (sg's indirect
   * path copies them in before the command and the whole buffer back after it), so bytes the
   * device does not transfer come back unchanged. This is what sg documents and 6.1.0..6.1.79
   * do; later 6.1 stable kernels fail such requests with ENOMEM, which the fd model reproduces
   * (SgFdOptions.toFromDev).
   */
  readonly preload: boolean;
}

/** A v3 header translated: the request any device executes, and the v3-only facts. */
export interface SgV3Request {
  /** The canonical request. */
  readonly request: ScsiRequest;
  /** What it does not carry. */
  readonly v3: SgV3Fields;
}

/**
 * Translates a v3 header into the canonical request, applying the interface's submission
 * rules in the kernel's order (interface_id, block's data checks, the CDB, sg's length checks,
 * the data mapping) with its errnos as {@link SgDriverError}s. Only state-free rules are here:
 * sg's queue (EDOM) and SG_FLAG_MMAP_IO admission (ENOMEM/EINVAL/EBUSY) belong to the fd model,
 * which runs before this.
 *
 * The request: `cdb` copied; data views of the caller's memory (flat, or one per iovec), or
 * for SG_FLAG_MMAP_IO on sg the first `length` bytes of `reserve`, as data-out for TO_DEV and
 * data-in for every other direction (TO_FROM_DEV with `preload`); `timeoutMs` = timeout;
 * `queueAt` by the interface's rule; `tag`; attribute SIMPLE (v3 has no other); `usrPtr`;
 * `packId` as the u32 pattern of the int; `maxSenseLength` = mx_sb_len; `flags` =
 * SG_FLAG_DIRECT_IO when set (the only v3 flag whose v4 meaning is the same request; MMAP_IO is
 * realized here through `reserve`, NO_DXFER and LUN_INHIBIT are ignored by Linux 6.1 sg).
 */
export function translateSgIoHdr(hdr: SgIoHdr, options: SgV3TranslateOptions): SgV3Request {
  const iface = ifaceOf(options);
  checkSgV3InterfaceId(hdr, options);
  checkSgV3BlockData(hdr, options, options.maxTransferBytes);
  const cdb = fetchSgV3Cdb(hdr, options);
  checkSgV3Lengths(hdr, options);
  const data = mapSgV3Data(hdr, options);
  const user = resolveSgUserSegments(data.segments, options.memory, options.syscall);
  let transfer: Uint8Array | readonly Uint8Array[] | undefined;
  if (data.direction !== 'none') {
    const mmapIo = iface === 'sg' && (hdr.flags & SG_FLAG_MMAP_IO) !== 0;
    if (!mmapIo && data.nullMapped) {
      // No caller memory: sg's buffer as it is, the reserve when given and large enough, else
      // a freshly built (zeroed) one.
      const reserve = options.reserve;
      transfer =
        reserve !== undefined && reserve.length >= data.length
          ? reserve.subarray(0, data.length)
          : new Uint8Array(data.length);
    } else if (mmapIo) {
      if (options.reserve === undefined) {
        throw new InvalidFieldError(
          'reserve',
          "is required for SG_FLAG_MMAP_IO: the data lives in the fd's reserved buffer",
          undefined,
        );
      }
      if (data.length > options.reserve.length) {
        throw new SgDriverError(
          'ENOMEM',
          options.syscall ?? 'ioctl(SG_IO)',
          `SG_FLAG_MMAP_IO with ${data.length} bytes, more than the reserve's ${options.reserve.length}`,
          'sg_new_write',
        );
      }
      transfer = options.reserve.subarray(0, data.length);
    } else {
      transfer = data.viaIovec ? user : user[0];
    }
  }
  const request: ScsiRequest = {
    cdb,
    ...(transfer === undefined
      ? {}
      : data.direction === 'to-device'
        ? { dataOut: transfer }
        : { dataIn: transfer }),
    timeoutMs: hdr.timeout,
    queueAt: queuePositionOf(hdr.flags, iface),
    tag: options.tag,
    attribute: 'SIMPLE',
    usrPtr: hdr.usrPtr,
    packId: hdr.packId >>> 0,
    maxSenseLength: hdr.mxSbLen,
    ...((hdr.flags & SG_FLAG_DIRECT_IO) !== 0 ? { flags: SG_FLAG_DIRECT_IO } : {}),
  };
  return {
    request,
    v3: {
      abi: options.abi,
      interface: iface,
      dxferDirection: hdr.dxferDirection,
      dxferLen: hdr.dxferLen,
      iovecCount: hdr.iovecCount,
      dxferp: hdr.dxferp,
      cmdp: hdr.cmdp,
      sbp: hdr.sbp,
      flags: hdr.flags,
      data,
      user,
      preload: data.direction === 'to-from-device',
    },
  };
}

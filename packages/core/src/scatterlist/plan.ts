/**
 * "What would Linux 6.1 do with this request on this device?" The transfer
 * plan for the three SG_IO paths: the sg driver (drivers/scsi/sg.c), bsg
 * (drivers/scsi/scsi_bsg.c) and block-device SG_IO (drivers/scsi/scsi_ioctl.c),
 * down to the HBA's scatterlist and its chained table layout.
 * @module
 */
import { InvalidFieldError } from '../errors/index.js';
import { UIO_MAXIOV, X86_64_PAGE_SIZE } from '../limits/constants.js';
import { maxHwBytes, maxHwBytesU32, type QueueLimits } from '../limits/queue-limits.js';
import { validatePageSize } from '../limits/validate.js';
import { sgDirectIoDecision, sgMmapIoRefusal } from '../reserve/admission.js';
import {
  SG_MAX_DXFER_LEN,
  type SgEnvironment,
  type SgReserveState,
  sgBuildIndirect,
  sgOpenReserve,
} from '../reserve/reserve-buffer.js';
import {
  type BioBuildResult,
  type Bvec,
  type CopyTarget,
  mapCopyPages,
  mapUserPages,
} from './bio-builder.js';
import { type ScatterlistTableLayout, scatterlistTableLayout } from './chain.js';
import { type CopyReason, copyDecision } from './copy-decision.js';
import {
  identityPageFrames,
  type PageFrameMapping,
  type TransferDirection,
  totalIovecLength,
  truncateIovecs,
  type UserIovec,
  validateIovecs,
} from './iovec.js';
import { mapBiosToSegments, padLastSegment, type ScatterlistSegment } from './map-sg.js';

/** The pass-through path a request takes. */
export type TransferInterface = 'sg' | 'bsg' | 'block';

/** Errnos a data mapping can end in. */
export type TransferErrno = 'EINVAL' | 'ENOMEM' | 'EBUSY' | 'EIO' | 'EOPNOTSUPP';

/** The kernel's refusal: the errno the syscall returns and the rule behind it. */
export interface TransferRefusal {
  /** errno name. */
  readonly errno: TransferErrno;
  /** The rule and kernel function. */
  readonly rule: string;
}

/** sg-only inputs. */
export interface SgTransferOptions {
  /** `/proc/scsi/sg/allow_dio`. */
  readonly allowDio?: boolean;
  /** SG_FLAG_DIRECT_IO. */
  readonly directIo?: boolean;
  /** SG_FLAG_MMAP_IO (the data lands in the reserve; a NULL dxferp means no user copy). */
  readonly mmapIo?: boolean;
  /** The fd's reserve (default: 32 KiB, not in use, never mmap-ed). */
  readonly reserve?: SgReserveState;
  /** `scatter_elem_sz` (default 32768). */
  readonly scatterElemSize?: number;
}

/** A data transfer to plan. */
export interface TransferRequest {
  /** Device queue limits. */
  readonly limits: QueueLimits;
  /** Path: sg, bsg or block-device SG_IO. */
  readonly iface: TransferInterface;
  /** Direction. bsg: `to-from-device` means both dout and din lengths are set. */
  readonly direction: TransferDirection;
  /**
   * The data: one entry = a flat buffer (`dxferp`/`xferp`), several (or
   * `vector: true`) = an iovec array (`iovec_count` > 0; not possible on bsg).
   */
  readonly iovecs: readonly UserIovec[];
  /** Pass the buffer as an iovec array even with one entry (default: more than one entry). */
  readonly vector?: boolean;
  /** `dxfer_len` (default: the iovec total). With iovecs the shorter of the two wins. */
  readonly dxferLength?: number;
  /** PAGE_SIZE (default 4096). */
  readonly pageSize?: number;
  /** User page -> physical frame (default {@link identityPageFrames}). */
  readonly pageFrames?: PageFrameMapping;
  /** sg options (ignored by the other paths). */
  readonly sg?: SgTransferOptions;
}

/** What the kernel does with the request. */
export interface TransferPlan {
  /** The path planned. */
  readonly iface: TransferInterface;
  /** `no-data` (nothing mapped), `mapped`, or `refused` (see `refusal`). */
  readonly outcome: 'no-data' | 'mapped' | 'refused';
  /** Why the kernel refuses, with the errno this path returns. */
  readonly refusal?: TransferRefusal;
  /** zero-copy (user pages pinned) or copy (bounce / sg buffer). */
  readonly mode?: 'zero-copy' | 'copy';
  /** The rule (and iovec) that forced a copy. */
  readonly copyReason?: CopyReason;
  /** Where the data sits during I/O. */
  readonly buffer?: 'user-pages' | 'bounce-pages' | 'sg-reserve' | 'sg-indirect';
  /** sg only: the reply's info carries SG_INFO_DIRECT_IO (sg chose direct IO and mapping succeeded). */
  readonly sgDirectIo?: boolean;
  /** sg only: why direct IO was or was not chosen. */
  readonly sgDirectIoReason?: string;
  /** Bytes transferred (after truncation to dxfer_len). */
  readonly length: number;
  /** The bios and their bvecs. */
  readonly bios: readonly (readonly Bvec[])[];
  /** `rq->nr_phys_segments` (the table is sized for this). */
  readonly nrPhysSegments: number;
  /** The HBA's scatterlist after `__blk_rq_map_sg`. */
  readonly segments: readonly ScatterlistSegment[];
  /** dma_pad_mask padding added to the last segment. */
  readonly padLength: number;
  /** The queue's max_segments, for comparison. */
  readonly maxSegments: number;
  /** max_hw_sectors in bytes, for comparison. */
  readonly maxHwBytes: number;
  /** The chained table layout for the command. */
  readonly table: ScatterlistTableLayout;
  /** The user-page mapping assumed. */
  readonly pageFrames: string;
}

const EMPTY_TABLE: ScatterlistTableLayout = { entries: 0, chunks: [], chainLinks: 0 };

function basePlan(request: TransferRequest, length: number): TransferPlan {
  return {
    iface: request.iface,
    outcome: 'no-data',
    length,
    bios: [],
    nrPhysSegments: 0,
    segments: [],
    padLength: 0,
    maxSegments: request.limits.maxSegments,
    maxHwBytes: maxHwBytes(request.limits),
    table: EMPTY_TABLE,
    pageFrames: (request.pageFrames ?? identityPageFrames).name,
  };
}

function refused(
  base: TransferPlan,
  refusal: TransferRefusal,
  extra: Partial<TransferPlan> = {},
): TransferPlan {
  return { ...base, ...extra, outcome: 'refused', refusal };
}

/** Turns built bios into the final plan (segments, padding, table). */
function finish(
  base: TransferPlan,
  request: TransferRequest,
  built: BioBuildResult,
  extra: Partial<TransferPlan>,
): TransferPlan {
  if (!built.ok) return refused(base, { errno: built.errno, rule: built.rule }, extra);
  const pageSize = request.pageSize ?? X86_64_PAGE_SIZE;
  const segments = mapBiosToSegments(built.bios, request.limits, pageSize);
  const padLength = padLastSegment(segments, base.length, request.limits);
  const plan: TransferPlan = {
    iface: base.iface,
    outcome: 'mapped',
    length: base.length,
    bios: built.bios,
    nrPhysSegments: built.nrPhysSegments,
    segments,
    padLength,
    maxSegments: base.maxSegments,
    maxHwBytes: base.maxHwBytes,
    table: scatterlistTableLayout(built.nrPhysSegments),
    pageFrames: base.pageFrames,
  };
  return Object.assign(plan, extra);
}

/**
 * `import_iovec()` + truncation as `blk_rq_map_user_io()` does it: more than
 * UIO_MAXIOV entries is EINVAL; the shorter of the iovec total and dxfer_len
 * wins; an empty result is EINVAL on sg (check_iter_count) and on block SG_IO
 * (`bio_map_user_iov` refuses an empty iterator).
 */
function importIovecs(
  request: TransferRequest,
  dxferLength: number,
): { iovecs: UserIovec[] } | { refusal: TransferRefusal } {
  if (request.iovecs.length > UIO_MAXIOV) {
    return {
      refusal: {
        errno: 'EINVAL',
        rule: `iovec_count ${request.iovecs.length} > UIO_MAXIOV ${UIO_MAXIOV} (import_iovec)`,
      },
    };
  }
  const iovecs = truncateIovecs(request.iovecs, dxferLength);
  if (totalIovecLength(iovecs) === 0) {
    return {
      refusal: { errno: 'EINVAL', rule: 'the iovecs hold no data (blk_rq_map_user_io / bio_map_user_iov)' },
    };
  }
  return { iovecs };
}

/** Zero-copy or bounce mapping with no `rq_map_data` (bsg, block SG_IO, sg direct IO). */
function mapWithoutMapData(request: TransferRequest, iovecs: readonly UserIovec[], length: number) {
  const pageSize = request.pageSize ?? X86_64_PAGE_SIZE;
  const copyReason = copyDecision(iovecs, request.limits, false);
  if (copyReason === undefined) {
    const built = mapUserPages(iovecs, request.limits, request.pageFrames ?? identityPageFrames, pageSize);
    return { built, extra: { mode: 'zero-copy', buffer: 'user-pages' } as const };
  }
  const target: CopyTarget = { kind: 'bounce-pages' };
  const built = mapCopyPages(length, target, request.limits, pageSize);
  return { built, extra: { mode: 'copy', buffer: 'bounce-pages', copyReason } as const };
}

function planBlock(request: TransferRequest, base: TransferPlan, dxferLength: number): TransferPlan {
  const limit = maxHwBytesU32(request.limits);
  if (dxferLength > limit) {
    return refused(base, {
      errno: 'EIO',
      rule: `dxfer_len ${dxferLength} > max_hw_sectors << 9 = ${limit} (32-bit) (sg_io in scsi_ioctl.c)`,
    });
  }
  if (dxferLength === 0) return base;
  if (request.direction === 'none' || request.direction === 'unknown') {
    return refused(base, {
      errno: 'EINVAL',
      rule: 'dxfer_len > 0 needs direction TO_DEV, FROM_DEV or TO_FROM_DEV (sg_io in scsi_ioctl.c)',
    });
  }
  const vector = request.vector ?? request.iovecs.length > 1;
  let iovecs: UserIovec[];
  if (vector) {
    const imported = importIovecs(request, dxferLength);
    if ('refusal' in imported) return refused(base, imported.refusal);
    iovecs = imported.iovecs;
  } else {
    iovecs = [{ address: request.iovecs[0]?.address ?? 0, length: dxferLength }];
  }
  const length = totalIovecLength(iovecs);
  const { built, extra } = mapWithoutMapData(request, iovecs, length);
  return finish({ ...base, length }, request, built, extra);
}

function planBsg(request: TransferRequest, base: TransferPlan, xferLength: number): TransferPlan {
  if (request.direction === 'to-from-device') {
    return refused(base, {
      errno: 'EOPNOTSUPP',
      rule: 'dout_xfer_len and din_xfer_len both set: BIDI support in bsg has been removed (scsi_bsg_sg_io_fn)',
    });
  }
  if (request.vector === true || request.iovecs.length > 1) {
    throw new InvalidFieldError(
      'iovecs',
      'bsg in 6.1 maps only a flat buffer (dout/din_iovec_count are ignored): pass one buffer',
      request.iovecs.length,
    );
  }
  if (xferLength === 0 || request.direction === 'none') return base;
  const iovecs = [{ address: request.iovecs[0]?.address ?? 0, length: xferLength }];
  const { built, extra } = mapWithoutMapData(request, iovecs, xferLength);
  return finish(base, request, built, extra);
}

function planSg(request: TransferRequest, base: TransferPlan, dxferLength: number): TransferPlan {
  const pageSize = request.pageSize ?? X86_64_PAGE_SIZE;
  const options = request.sg ?? {};
  const env: SgEnvironment = {
    limits: request.limits,
    pageSize,
    ...(options.scatterElemSize === undefined ? {} : { scatterElemSize: options.scatterElemSize }),
  };
  const reserve = options.reserve ?? sgOpenReserve(env);
  const vector = request.vector ?? request.iovecs.length > 1;
  const dataRequest = {
    dxferLength,
    direction: request.direction,
    directIo: options.directIo ?? false,
    mmapIo: options.mmapIo ?? false,
    iovecCount: vector ? request.iovecs.length : 0,
    dxferp: request.iovecs[0]?.address ?? 0,
  };
  if (dxferLength >= SG_MAX_DXFER_LEN) {
    return refused(base, { errno: 'EINVAL', rule: 'dxfer_len >= 256 MiB (SZ_256M, sg_new_write)' });
  }
  const mmapRefusal = sgMmapIoRefusal(dataRequest, reserve);
  if (mmapRefusal) return refused(base, mmapRefusal);
  if (dxferLength <= 0 || request.direction === 'none') return base;

  const dio = sgDirectIoDecision(dataRequest, options.allowDio ?? false, request.limits);
  const sgExtra = { sgDirectIoReason: dio.reason };
  let iovecs: UserIovec[];
  if (vector) {
    const imported = importIovecs(request, dxferLength);
    if ('refusal' in imported) return refused(base, imported.refusal, { ...sgExtra, sgDirectIo: false });
    iovecs = imported.iovecs;
  } else {
    iovecs = [{ address: dataRequest.dxferp, length: dxferLength }];
  }
  const length = totalIovecLength(iovecs);
  const sized = { ...base, length };

  if (dio.direct) {
    const { built, extra } = mapWithoutMapData(request, iovecs, length);
    return finish(sized, request, built, { ...extra, ...sgExtra, sgDirectIo: built.ok });
  }
  // Indirect: the reserve when it fits and is free, else a private buffer (sg_start_req).
  let target: CopyTarget;
  let buffer: 'sg-reserve' | 'sg-indirect';
  if (!reserve.inUse && dxferLength <= reserve.buffer.bufflen) {
    buffer = 'sg-reserve';
    target = {
      kind: 'sg-buffer',
      elementSize: reserve.buffer.elementSize,
      elements: reserve.buffer.elements,
    };
  } else {
    const built = sgBuildIndirect(dxferLength, env);
    if (built.result !== 0) {
      return refused(
        sized,
        {
          errno: 'ENOMEM',
          rule:
            `indirect buffer of ${dxferLength} bytes exceeds sg_tablesize ${request.limits.maxSegments} x ` +
            `element ${built.buffer.elementSize} bytes (sg_build_indirect)`,
        },
        { ...sgExtra, sgDirectIo: false },
      );
    }
    buffer = 'sg-indirect';
    target = { kind: 'sg-buffer', elementSize: built.buffer.elementSize, elements: built.buffer.elements };
  }
  const copyReason = copyDecision(iovecs, request.limits, true);
  const built = mapCopyPages(length, target, request.limits, pageSize);
  return finish(sized, request, built, {
    mode: 'copy',
    buffer,
    ...(copyReason ? { copyReason } : {}),
    ...sgExtra,
    sgDirectIo: false,
  });
}

/**
 * Plans a data transfer on one pass-through path of Linux 6.1.
 *
 * - **sg**: dxfer_len >= 256 MiB -> EINVAL; SG_FLAG_MMAP_IO admission
 *   (ENOMEM / EINVAL / EBUSY); direct IO per `sg_start_req` (then no
 *   rq_map_data: zero-copy unless the block layer still bounces, and the reply
 *   has SG_INFO_DIRECT_IO); otherwise a copy into the reserve (if it fits and
 *   is free) or a private indirect buffer (ENOMEM beyond sg_tablesize x
 *   element size); iovecs via `import_iovec` (> UIO_MAXIOV -> EINVAL).
 * - **bsg**: both directions -> EOPNOTSUPP; flat buffer only; no length
 *   check of its own: bio limits fail with EINVAL.
 * - **block**: dxfer_len > max_hw_sectors << 9 -> EIO; data with direction
 *   NONE/UNKNOWN -> EINVAL; iovecs allowed.
 *
 * Then `blk_rq_map_user_iov` (copy rules), bio building (max_hw_sectors,
 * max_segments -> EINVAL), `__blk_rq_map_sg`, dma padding and the chained
 * table. Inputs are validated ({@link InvalidFieldError}); kernel refusals are
 * data (`outcome: 'refused'`), never exceptions.
 */
export function planTransfer(request: TransferRequest): TransferPlan {
  validatePageSize(request.pageSize ?? X86_64_PAGE_SIZE);
  validateIovecs(request.iovecs);
  if (request.iovecs.length === 0) {
    throw new InvalidFieldError(
      'iovecs',
      'must hold at least one buffer (address 0, length 0 for no data)',
      0,
    );
  }
  const total = totalIovecLength(request.iovecs);
  const dxferLength = request.dxferLength ?? total;
  if (!Number.isSafeInteger(dxferLength) || dxferLength < 0 || dxferLength > 0xffff_ffff) {
    throw new InvalidFieldError(
      'dxferLength',
      'must be an integer in 0..4294967295 (unsigned int)',
      dxferLength,
    );
  }
  const base = basePlan(request, dxferLength);
  switch (request.iface) {
    case 'sg':
      return planSg(request, base, dxferLength);
    case 'bsg':
      return planBsg(request, base, dxferLength);
    case 'block':
      return planBlock(request, base, dxferLength);
  }
}

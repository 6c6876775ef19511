/**
 * "What would Linux 6.1 do with this request on this device?" The transfer
 * plan for the three SG_IO paths: the sg driver (drivers/scsi/sg.c), bsg
 * (drivers/scsi/scsi_bsg.c) and block-device SG_IO (drivers/scsi/scsi_ioctl.c),
 * down to the HBA's scatterlist and its chained table layout.
 * @module
 */
import { InvalidFieldError } from '../errors/index.js';
import { maxRwCount, UIO_MAXIOV, X86_64_PAGE_SIZE, X86_64_TASK_SIZE_MAX } from '../limits/constants.js';
import { maxHwBytes, maxHwBytesU32, type QueueLimits } from '../limits/queue-limits.js';
import { validatePageSize } from '../limits/validate.js';
import { sgDirectIoDecision, sgMmapIoRefusal } from '../reserve/admission.js';
import {
  SG_MAX_DXFER_LEN,
  type SgBuffer,
  type SgEnvironment,
  type SgReserveState,
  sgBuildIndirect,
  sgLinkReserve,
  sgOpenReserve,
} from '../reserve/reserve-buffer.js';
import { ATAPI_MAX_DRAIN, atapiNeedsDmaDrain } from './atapi.js';
import {
  type BioBuildResult,
  type Bvec,
  type CopyTarget,
  mapCopyPages,
  mapUserPages,
  remapToFromDevCopy,
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
import { TRANSFER_RULES, type TransferRuleId, transferRuleSource } from './transfer-rules.js';

/** The pass-through path a request takes. */
export type TransferInterface = 'sg' | 'bsg' | 'block';

/** Errnos a data mapping can end in. */
export type TransferErrno = 'EINVAL' | 'ENOMEM' | 'EBUSY' | 'EIO' | 'EOPNOTSUPP' | 'EFAULT';

/** The kernel's refusal: the errno the syscall returns and the rule behind it. */
export interface TransferRefusal {
  /** errno name. */
  readonly errno: TransferErrno;
  /** The rule's id in {@link TRANSFER_RULES}. */
  readonly id: TransferRuleId;
  /** `function (file)` of the kernel code that refuses. */
  readonly kernelFunction: string;
  /** The rule, as a sentence naming the values and the kernel function. */
  readonly rule: string;
}

/** A refusal by rule id, with the kernel function from {@link TRANSFER_RULES}. */
function refusalOf(id: TransferRuleId, errno: TransferErrno, rule: string): TransferRefusal {
  return { errno, id, kernelFunction: transferRuleSource(id), rule };
}

/**
 * bsg ignores `dout_iovec_count` / `din_iovec_count` (Linux 6.1 drivers/scsi/scsi_bsg.c
 * `scsi_bsg_sg_io_fn` passes `dout_xferp`/`din_xferp` to `blk_rq_map_user` as one flat
 * buffer): a request meant as an iovec array moves the array itself.
 */
export interface BsgIovecArrayHazard {
  /** Always `bsg-ignores-iovec-count`. */
  readonly id: 'bsg-ignores-iovec-count';
  /** Where the kernel maps the data: the iovec array's address (`dout_xferp`/`din_xferp`). */
  readonly mappedAddress: number;
  /** How many bytes it maps there (`dout_xfer_len`/`din_xfer_len`). */
  readonly mappedLength: number;
  /** Bytes of the array itself (16 per `struct iovec` on x86-64). */
  readonly arrayLength: number;
  /**
   * Data-out: the first bytes the device receives, the array's own bytes (`iov_base`,
   * `iov_len` as little-endian 64-bit words), cut to `mappedLength`; what follows the array
   * in memory comes after them. Data-in: the bytes the device's data overwrites first.
   */
  readonly arrayBytes: Uint8Array;
  /** One sentence: what the device receives, or what gets overwritten. */
  readonly explanation: string;
}

/** sg.c's `SZ_256M` limit, checked in `sg_common_write` after the header checks. */
function sgDxferLengthRefusal(dxferLength: number): TransferRefusal | undefined {
  if (dxferLength < SG_MAX_DXFER_LEN) return undefined;
  return refusalOf(
    'sg-max-dxfer-len',
    'EINVAL',
    `dxfer_len ${dxferLength} >= 256 MiB (SZ_256M, sg_common_write)`,
  );
}

/** sg-only inputs. */
export interface SgTransferOptions {
  /** `/proc/scsi/sg/allow_dio`. */
  readonly allowDio?: boolean;
  /** SG_FLAG_DIRECT_IO. */
  readonly directIo?: boolean;
  /**
   * SG_FLAG_MMAP_IO (the data lands in the reserve; a NULL dxferp means no user copy, except
   * that TO_FROM_DEV still copies in, from address 0: EFAULT).
   */
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
  /**
   * bsg with `vector` (dout/din_iovec_count > 0): the address of the iovec array, i.e. the
   * `dout_xferp`/`din_xferp` the caller set. bsg maps it as flat data (see
   * {@link BsgIovecArrayHazard}).
   */
  readonly iovecArrayAddress?: number;
  /**
   * Whether the user range has pages (default true). When false, pinning it (zero-copy)
   * fails with EFAULT in `bio_map_user_iov`, and so does a copy for data-out
   * (`bio_copy_from_iter`); a copy for data-in maps, and the fault would come when the data
   * is copied back after the command (not modelled).
   */
  readonly userPagesMapped?: boolean;
  /** `TASK_SIZE_MAX` for `access_ok()` (default x86-64 4-level paging, 0x7ffffffff000). */
  readonly userAddressLimit?: number;
  /**
   * The device is an ATAPI device behind libata (`sdev->dma_drain_len` set) and this is the
   * CDB's opcode: data-in commands of type ATAPI_MISC get the DMA drain entry. Apply
   * `atapiQueueLimits` to `limits` for the queue such a device has.
   */
  readonly atapi?: {
    /** CDB byte 0. */
    readonly opcode: number;
    /** libata's `atapi_passthru16` module parameter (default true). */
    readonly passthru16?: boolean;
  };
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
  /** ATAPI DMA drain entry appended after the data (0 when none): `sdev->dma_drain_len`. */
  readonly drainLength: number;
  /** `cmd->extra_len`: padding plus drain, bytes the HBA may move beyond the data. */
  readonly extraLength: number;
  /** Present when `import_single_range`/`import_iovec` cut the length to MAX_RW_COUNT. */
  readonly lengthCap?: {
    /** The length asked for. */
    readonly requested: number;
    /** MAX_RW_COUNT, the length mapped. */
    readonly capped: number;
    /** The rule, as a sentence. */
    readonly rule: string;
  };
  /** bsg with an iovec count: the hazard of the array mapped as data. */
  readonly hazard?: BsgIovecArrayHazard;
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
    drainLength: 0,
    extraLength: 0,
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
  built: Mapping,
  extra: Partial<TransferPlan>,
): TransferPlan {
  if (!('ok' in built)) return refused(base, built, extra);
  if (!built.ok) return refused(base, refusalOf(built.id, built.errno, built.rule), extra);
  const pageSize = request.pageSize ?? X86_64_PAGE_SIZE;
  const segments = mapBiosToSegments(built.bios, request.limits, pageSize);
  const padLength = padLastSegment(segments, base.length, request.limits);
  const drain =
    request.atapi !== undefined &&
    atapiNeedsDmaDrain(request.atapi.opcode, request.direction, request.atapi.passthru16 ?? true);
  const drainLength = drain ? ATAPI_MAX_DRAIN : 0;
  if (drain) {
    segments.push({
      physicalAddress: DMA_DRAIN_BUFFER_ADDRESS,
      length: ATAPI_MAX_DRAIN,
      pageOffset: 0,
      requestOffset: base.length + padLength,
      drain: true,
    });
  }
  const plan: TransferPlan = {
    ...base,
    outcome: 'mapped',
    bios: built.bios,
    nrPhysSegments: built.nrPhysSegments,
    segments,
    padLength,
    drainLength,
    extraLength: padLength + drainLength,
    // scsi_alloc_sgtables sizes the table for nr_phys_segments + 1 when it drains.
    table: scatterlistTableLayout(built.nrPhysSegments + (drain ? 1 : 0)),
  };
  return Object.assign(plan, extra);
}

/** Modelled physical address of the ATAPI drain buffer (a `kmalloc` of `dma_drain_len`). */
export const DMA_DRAIN_BUFFER_ADDRESS = 2 ** 38;

/** The user address limit of a request (TASK_SIZE_MAX). */
function addressLimit(request: TransferRequest): number {
  return request.userAddressLimit ?? X86_64_TASK_SIZE_MAX;
}

/**
 * `access_ok(addr, size)` (include/asm-generic/access_ok.h): `size <= TASK_SIZE_MAX` and
 * `addr <= TASK_SIZE_MAX - size`.
 */
function accessOk(address: number, length: number, limit: number): boolean {
  return length <= limit && address <= limit - length;
}

/**
 * `import_single_range()` (lib/iov_iter.c) for a flat buffer: the length is cut to
 * MAX_RW_COUNT first, then the range must pass `access_ok` (EFAULT).
 */
function importSingleRange(
  request: TransferRequest,
  address: number,
  length: number,
): { iovecs: UserIovec[]; lengthCap?: TransferPlan['lengthCap'] } | { refusal: TransferRefusal } {
  const max = maxRwCount(request.pageSize ?? X86_64_PAGE_SIZE);
  const mapped = Math.min(length, max);
  if (!accessOk(address, mapped, addressLimit(request))) {
    return {
      refusal: refusalOf(
        'access-ok',
        'EFAULT',
        `the buffer 0x${address.toString(16)} + ${mapped} reaches past TASK_SIZE_MAX (access_ok in import_single_range)`,
      ),
    };
  }
  const iovecs = [{ address, length: mapped }];
  if (mapped === length) return { iovecs };
  return {
    iovecs,
    lengthCap: {
      requested: length,
      capped: mapped,
      rule: `length ${length} cut to MAX_RW_COUNT ${mapped} (import_single_range)`,
    },
  };
}

/**
 * `import_iovec()` + truncation as `blk_rq_map_user_io()` (block/blk-map.c) does it: more
 * than UIO_MAXIOV entries is EINVAL (`iovec_from_user`); each iovec must pass `access_ok`
 * over its full length (EFAULT) and the running total is cut to MAX_RW_COUNT
 * (`__import_iovec`, lib/iov_iter.c); then the shorter of the iovec total and dxfer_len
 * wins (`iov_iter_truncate`); an empty result is EINVAL on sg (check_iter_count) and on
 * block SG_IO (`bio_map_user_iov` refuses an empty iterator).
 */
function importIovecs(
  request: TransferRequest,
  dxferLength: number,
): { iovecs: UserIovec[]; lengthCap?: TransferPlan['lengthCap'] } | { refusal: TransferRefusal } {
  if (request.iovecs.length > UIO_MAXIOV) {
    return {
      refusal: refusalOf(
        'uio-maxiov',
        'EINVAL',
        `iovec_count ${request.iovecs.length} > UIO_MAXIOV ${UIO_MAXIOV} (iovec_from_user in import_iovec)`,
      ),
    };
  }
  const limit = addressLimit(request);
  const max = maxRwCount(request.pageSize ?? X86_64_PAGE_SIZE);
  const capped: UserIovec[] = [];
  let total = 0;
  for (const [i, iov] of request.iovecs.entries()) {
    if (!accessOk(iov.address, iov.length, limit)) {
      return {
        refusal: refusalOf(
          'access-ok',
          'EFAULT',
          `iovec ${i} (0x${iov.address.toString(16)} + ${iov.length}) reaches past TASK_SIZE_MAX (access_ok in __import_iovec)`,
        ),
      };
    }
    const length = Math.min(iov.length, max - total);
    capped.push(length === iov.length ? iov : { ...iov, length, data: iov.data?.subarray(0, length) });
    total += length;
  }
  const iovecs = truncateIovecs(capped, dxferLength);
  if (totalIovecLength(iovecs) === 0) {
    return {
      refusal: refusalOf(
        'iovecs-empty',
        'EINVAL',
        'the iovecs hold no data (blk_rq_map_user_io / bio_map_user_iov)',
      ),
    };
  }
  const requested = Math.min(totalIovecLength(request.iovecs), dxferLength);
  if (total >= requested) return { iovecs };
  return {
    iovecs,
    lengthCap: {
      requested,
      capped: total,
      rule: `iovec total cut to MAX_RW_COUNT ${max} (__import_iovec)`,
    },
  };
}

/** What mapping the data produced: built bios, or a refusal before any bio. */
type Mapping = BioBuildResult | TransferRefusal;

/**
 * `user-pages-fault`: unmapped user pages fail zero-copy pinning (`bio_map_user_iov`) and
 * the copy-in of data-out (`bio_copy_user_iov` -> `bio_copy_from_iter`).
 */
function userPagesFault(
  request: TransferRequest,
  zeroCopy: boolean,
  copiesIn = request.direction === 'to-device',
): TransferRefusal | undefined {
  if (request.userPagesMapped !== false) return undefined;
  if (zeroCopy) {
    return refusalOf(
      'user-pages-fault',
      'EFAULT',
      'the user pages are not mapped: pinning them fails (iov_iter_get_pages_alloc2 in bio_map_user_iov)',
    );
  }
  if (!copiesIn) return undefined;
  return refusalOf(
    'user-pages-fault',
    'EFAULT',
    'the user pages are not mapped: copying the data out of them fails (bio_copy_from_iter in bio_copy_user_iov)',
  );
}

/** Zero-copy or bounce mapping with no `rq_map_data` (bsg, block SG_IO, sg direct IO). */
function mapWithoutMapData(request: TransferRequest, iovecs: readonly UserIovec[], length: number) {
  const pageSize = request.pageSize ?? X86_64_PAGE_SIZE;
  const copyReason = copyDecision(iovecs, request.limits, false);
  if (copyReason === undefined) {
    const built: Mapping =
      userPagesFault(request, true) ??
      mapUserPages(iovecs, request.limits, request.pageFrames ?? identityPageFrames, pageSize);
    return { built, extra: { mode: 'zero-copy', buffer: 'user-pages' } as const };
  }
  const built: Mapping =
    userPagesFault(request, false) ??
    mapCopyPages(length, { kind: 'bounce-pages' }, request.limits, pageSize);
  return { built, extra: { mode: 'copy', buffer: 'bounce-pages', copyReason } as const };
}

/**
 * Block-device SG_IO, `sg_io()` (drivers/scsi/scsi_ioctl.c): dxfer_len above
 * `max_hw_sectors << 9` (32-bit) is EIO; data with direction NONE/UNKNOWN is EINVAL; then
 * `blk_rq_map_user_io` with iovecs when iovec_count && dxfer_len, else one flat buffer.
 */
function planBlock(request: TransferRequest, base: TransferPlan, dxferLength: number): TransferPlan {
  const limit = maxHwBytesU32(request.limits);
  if (dxferLength > limit) {
    return refused(
      base,
      refusalOf(
        'block-max-hw-sectors',
        'EIO',
        `dxfer_len ${dxferLength} > max_hw_sectors << 9 = ${limit} (32-bit) (sg_io in scsi_ioctl.c)`,
      ),
    );
  }
  if (dxferLength === 0) return base;
  if (request.direction === 'none' || request.direction === 'unknown') {
    return refused(
      base,
      refusalOf(
        'block-direction',
        'EINVAL',
        'dxfer_len > 0 needs direction TO_DEV, FROM_DEV or TO_FROM_DEV (sg_io in scsi_ioctl.c)',
      ),
    );
  }
  const vector = request.vector ?? request.iovecs.length > 1;
  const imported = vector
    ? importIovecs(request, dxferLength)
    : importSingleRange(request, request.iovecs[0]?.address ?? 0, dxferLength);
  if ('refusal' in imported) return refused(base, imported.refusal);
  const length = totalIovecLength(imported.iovecs);
  const sized = { ...base, length, ...(imported.lengthCap ? { lengthCap: imported.lengthCap } : {}) };
  const { built, extra } = mapWithoutMapData(request, imported.iovecs, length);
  return finish(sized, request, built, extra);
}

/** x86-64 `struct iovec` bytes: `iov_base` then `iov_len`, little-endian 64-bit words. */
export function iovecArrayBytes(iovecs: readonly UserIovec[]): Uint8Array {
  const bytes = new Uint8Array(16 * iovecs.length);
  const view = new DataView(bytes.buffer);
  iovecs.forEach((iov, i) => {
    view.setBigUint64(16 * i, BigInt(iov.address), true);
    view.setBigUint64(16 * i + 8, BigInt(iov.length), true);
  });
  return bytes;
}

/**
 * bsg, `scsi_bsg_sg_io_fn()` (drivers/scsi/scsi_bsg.c): both directions is EOPNOTSUPP; the
 * data is one flat buffer (`blk_rq_map_user`), and an iovec count is ignored, so a request
 * meant as an iovec array maps the array itself ({@link BsgIovecArrayHazard}).
 */
function planBsg(request: TransferRequest, base: TransferPlan, xferLength: number): TransferPlan {
  if (request.direction === 'to-from-device') {
    return refused(
      base,
      refusalOf(
        'bsg-bidi',
        'EOPNOTSUPP',
        'dout_xfer_len and din_xfer_len both set: BIDI support in bsg has been removed (scsi_bsg_sg_io_fn)',
      ),
    );
  }
  const vector = request.vector === true || request.iovecs.length > 1;
  let address = request.iovecs[0]?.address ?? 0;
  let hazard: BsgIovecArrayHazard | undefined;
  if (vector) {
    if (request.iovecArrayAddress === undefined) {
      throw new InvalidFieldError(
        'iovecArrayAddress',
        'a bsg request with an iovec count needs the array address (dout_xferp/din_xferp): bsg maps it as flat data',
        undefined,
      );
    }
    address = request.iovecArrayAddress;
    const array = iovecArrayBytes(request.iovecs);
    hazard = {
      id: 'bsg-ignores-iovec-count',
      mappedAddress: address,
      mappedLength: xferLength,
      arrayLength: array.length,
      arrayBytes: array.subarray(0, Math.min(array.length, xferLength)),
      explanation:
        request.direction === 'to-device'
          ? `the device receives the ${array.length}-byte iovec array itself (then the bytes after it), ` +
            'not the buffers it points to: scsi_bsg_sg_io_fn ignores dout_iovec_count'
          : `the device's data overwrites the ${array.length}-byte iovec array (and the bytes after it); ` +
            'the buffers it points to receive nothing: scsi_bsg_sg_io_fn ignores din_iovec_count',
    };
  }
  const withHazard = hazard ? { ...base, hazard } : base;
  if (xferLength === 0 || request.direction === 'none') return withHazard;
  const imported = importSingleRange(request, address, xferLength);
  if ('refusal' in imported) return refused(withHazard, imported.refusal);
  const length = totalIovecLength(imported.iovecs);
  const sized = { ...withHazard, length, ...(imported.lengthCap ? { lengthCap: imported.lengthCap } : {}) };
  const { built, extra } = mapWithoutMapData(request, imported.iovecs, length);
  return finish(sized, request, built, extra);
}

/** sg's reserve or private buffer as `rq_map_data` hands it to `bio_copy_user_iov`. */
type SgBufferTarget = Extract<CopyTarget, { kind: 'sg-buffer' }>;

/**
 * SG_DXFER_TO_FROM_DEV with a NULL dxferp (a null-mapped request, as SG_FLAG_MMAP_IO users
 * send): `bio_copy_user_iov()` (block/blk-map.c) copies in whenever `map_data->from_user` is
 * set, without looking at `null_mapped`, so it reads address 0 and `bio_copy_from_iter()`
 * fails with EFAULT in the first round. Every 6.1.y does this, before the 6.1.80 regression.
 */
function nullCopyInFault(): TransferRefusal {
  return refusalOf(
    'user-pages-fault',
    'EFAULT',
    'SG_DXFER_TO_FROM_DEV with a NULL dxferp copies in from address 0: map_data->from_user ignores ' +
      'null_mapped (bio_copy_from_iter in bio_copy_user_iov)',
  );
}

/**
 * The `sg-to-from-dev-regression` refusal (see `TRANSFER_RULES`): what Linux 6.1.80 and later
 * 6.1 stable kernels (the lab's 6.1.192 among them) return for an SG_DXFER_TO_FROM_DEV request
 * of `length` bytes (dxfer_len, or the iovec total when shorter) that sg copies through its
 * own buffer. `buffer` is the request's buffer: for the reserve what {@link sgLinkReserve}
 * links (the reserve's first elements, as many as cover dxfer_len), else the private buffer
 * `sgBuildIndirect` built; its `elements` x `elementSize` bytes are the pages
 * `bio_copy_user_iov` may use (`rq_map_data`). ENOMEM when they run out first, EINVAL when
 * `blk_rq_append_bio` refuses a bio first (see {@link remapToFromDevCopy}); the rule sentence
 * says which, after how many rounds.
 */
export function sgToFromDevRefusal(
  length: number,
  buffer: Pick<SgBuffer, 'elements' | 'elementSize'>,
  limits: QueueLimits,
  pageSize = X86_64_PAGE_SIZE,
): TransferRefusal & { readonly errno: 'ENOMEM' | 'EINVAL' } {
  validatePageSize(pageSize);
  if (!Number.isSafeInteger(length) || length <= 0 || length > 0xffff_ffff) {
    throw new InvalidFieldError('length', 'must be an integer in 1..4294967295 (the bytes mapped)', length);
  }
  if (!Number.isSafeInteger(buffer.elements) || buffer.elements < 1) {
    throw new InvalidFieldError('buffer.elements', 'must be a positive integer (k_use_sg)', buffer.elements);
  }
  if (
    !Number.isSafeInteger(buffer.elementSize) ||
    buffer.elementSize < pageSize ||
    buffer.elementSize % pageSize !== 0
  ) {
    throw new InvalidFieldError(
      'buffer.elementSize',
      `must be a multiple of PAGE_SIZE ${pageSize} (PAGE_SIZE << page_order)`,
      buffer.elementSize,
    );
  }
  if (length > buffer.elements * buffer.elementSize) {
    throw new InvalidFieldError(
      'length',
      `must fit the buffer's ${buffer.elements} x ${buffer.elementSize} bytes (sg_start_req sizes it first)`,
      length,
    );
  }
  const target: SgBufferTarget = {
    kind: 'sg-buffer',
    elements: buffer.elements,
    elementSize: buffer.elementSize,
  };
  const remap = remapToFromDevCopy(length, target, limits, pageSize);
  return { ...refusalOf('sg-to-from-dev-regression', remap.errno, remap.rule), errno: remap.errno };
}

/**
 * The sg driver (drivers/scsi/sg.c): `sg_new_write`'s SG_FLAG_MMAP_IO checks, then
 * `sg_common_write`'s 256 MiB limit, then `sg_start_req`: direct IO or a copy into the
 * reserve (the elements `sg_link_reserve` links) or a private indirect buffer. A copy of
 * SG_DXFER_TO_FROM_DEV faults from a NULL dxferp and otherwise meets the 6.1.80+ regression
 * ({@link sgToFromDevRefusal}).
 */
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
  const mmapRefusal = sgMmapIoRefusal(dataRequest, reserve);
  if (mmapRefusal) return refused(base, refusalOf(mmapRefusal.id, mmapRefusal.errno, mmapRefusal.rule));
  const tooLong = sgDxferLengthRefusal(dxferLength);
  if (tooLong) return refused(base, tooLong);
  if (dxferLength <= 0 || request.direction === 'none') return base;

  const dio = sgDirectIoDecision(dataRequest, options.allowDio ?? false, request.limits);
  const sgExtra = { sgDirectIoReason: dio.reason };
  const imported = vector
    ? importIovecs(request, dxferLength)
    : importSingleRange(request, dataRequest.dxferp, dxferLength);
  if ('refusal' in imported) return refused(base, imported.refusal, { ...sgExtra, sgDirectIo: false });
  const iovecs = imported.iovecs;
  const length = totalIovecLength(iovecs);
  const sized = { ...base, length };

  if (dio.direct) {
    const { built, extra } = mapWithoutMapData(request, iovecs, length);
    return finish(sized, request, built, { ...extra, ...sgExtra, sgDirectIo: 'ok' in built && built.ok });
  }
  // Indirect: the reserve when it fits and is free, else a private buffer (sg_start_req).
  let target: SgBufferTarget;
  let buffer: 'sg-reserve' | 'sg-indirect';
  if (!reserve.inUse && dxferLength <= reserve.buffer.bufflen) {
    buffer = 'sg-reserve';
    const linked = sgLinkReserve(reserve.buffer, dxferLength);
    target = { kind: 'sg-buffer', elementSize: linked.elementSize, elements: linked.elements };
  } else {
    const built = sgBuildIndirect(dxferLength, env);
    if (built.result !== 0) {
      return refused(
        sized,
        refusalOf(
          'sg-indirect-too-large',
          'ENOMEM',
          `indirect buffer of ${dxferLength} bytes exceeds sg_tablesize ${request.limits.maxSegments} x ` +
            `element ${built.buffer.elementSize} bytes (sg_build_indirect)`,
        ),
        { ...sgExtra, sgDirectIo: false },
      );
    }
    buffer = 'sg-indirect';
    target = { kind: 'sg-buffer', elementSize: built.buffer.elementSize, elements: built.buffer.elements };
  }
  const copyReason = copyDecision(iovecs, request.limits, true);
  // With rq_map_data the pages are sg's own. Data-out is copied in from the user unless
  // dxferp is NULL (null_mapped); TO_FROM_DEV is always copied in (map_data->from_user does
  // not look at null_mapped), so from a NULL dxferp it reads address 0 and faults.
  const toFromDev = request.direction === 'to-from-device';
  const nullMapped = !vector && dataRequest.dxferp === 0;
  const copiesIn = toFromDev || (request.direction === 'to-device' && !nullMapped);
  const built: Mapping =
    (toFromDev && nullMapped ? nullCopyInFault() : undefined) ??
    userPagesFault(request, false, copiesIn) ??
    (toFromDev
      ? sgToFromDevRefusal(length, target, request.limits, pageSize)
      : mapCopyPages(length, target, request.limits, pageSize));
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
 * - **sg** (drivers/scsi/sg.c): SG_FLAG_MMAP_IO admission in `sg_new_write`
 *   (ENOMEM / EINVAL / EBUSY), then dxfer_len >= 256 MiB -> EINVAL in
 *   `sg_common_write` (the header, CDB-length and permission checks between the two are
 *   `predictSubmission`'s); direct IO per `sg_start_req` (then no rq_map_data:
 *   zero-copy unless the block layer still bounces, and the reply has
 *   SG_INFO_DIRECT_IO); otherwise a copy into the reserve (if it fits and is free) or a
 *   private indirect buffer (ENOMEM beyond sg_tablesize x element size). SG_DXFER_TO_FROM_DEV
 *   on that copy path fails as Linux 6.1.80+ fails it (`sg-to-from-dev-regression`,
 *   {@link sgToFromDevRefusal}: ENOMEM or EINVAL; 6.1.0 to 6.1.79 map it), and with a NULL
 *   dxferp it faults (EFAULT: the copy-in reads address 0).
 * - **bsg** (`scsi_bsg_sg_io_fn`, drivers/scsi/scsi_bsg.c): both directions ->
 *   EOPNOTSUPP; one flat buffer, an iovec count is ignored (the plan carries the
 *   {@link BsgIovecArrayHazard}); no length check of its own: bio limits fail with EINVAL.
 * - **block** (`sg_io`, drivers/scsi/scsi_ioctl.c): dxfer_len > max_hw_sectors << 9 ->
 *   EIO; data with direction NONE/UNKNOWN -> EINVAL; iovecs allowed.
 *
 * Then the user range: a flat buffer through `import_single_range` (length cut to
 * MAX_RW_COUNT, then `access_ok` -> EFAULT), iovecs through `import_iovec` (> UIO_MAXIOV
 * -> EINVAL, `access_ok` per iovec, total cut to MAX_RW_COUNT); `blk_rq_map_user_iov`
 * (copy rules; unmapped pages -> EFAULT), bio building (max_hw_sectors, max_segments,
 * virt-boundary gaps -> EINVAL), `__blk_rq_map_sg`, dma padding, the ATAPI drain entry
 * and the chained table. Inputs are validated ({@link InvalidFieldError}); kernel
 * refusals are data (`outcome: 'refused'`, with the rule's id and kernel function),
 * never exceptions.
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

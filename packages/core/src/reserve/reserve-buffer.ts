/**
 * The sg driver's per-file-descriptor reserved buffer (drivers/scsi/sg.c,
 * Linux 6.1, version 3.5.36): how it is built, resized with
 * SG_SET_RESERVED_SIZE, reported by SG_GET_RESERVED_SIZE, and mmap-ed.
 * Every operation is pure: it returns the new state and the result the
 * syscall would give (0 or an errno name).
 * @module
 */
import { InvalidFieldError } from '../errors/index.js';
import { SECTOR_SIZE, X86_64_PAGE_SIZE } from '../limits/constants.js';
import { type QueueLimits, queueMaxBytes } from '../limits/queue-limits.js';

/** `SG_DEF_RESERVED_SIZE` = `SG_BIG_BUFF` = 32768: the default `def_reserved_size`. */
export const SG_DEF_RESERVED_SIZE = 32768;
/** `SG_SCATTER_SZ` = 8 x 4096: the default `scatter_elem_sz`. */
export const SG_SCATTER_SZ = 32768;
/** `SZ_256M`: sg refuses dxfer_len >= 256 MiB with EINVAL. */
export const SG_MAX_DXFER_LEN = 256 * 1024 * 1024;

/** What the sg driver's page allocator can hand out (the model's stand-in for memory pressure). */
export interface SgAllocator {
  /**
   * Highest page order `alloc_pages()` succeeds for (default: any). An element
   * of a higher order fails, and `sg_build_indirect` retries one order lower.
   */
  readonly maxOrder?: number;
  /** Pages available in total (default: unlimited); exceeding it fails the allocation. */
  readonly pagesAvailable?: number;
}

/** Module parameters and device facts the sg buffer code reads. */
export interface SgEnvironment {
  /** The device queue (sg_tablesize = max_segments, max_sectors caps the reserve). */
  readonly limits: QueueLimits;
  /** `scatter_elem_sz` module parameter (default 32768, forced >= PAGE_SIZE). */
  readonly scatterElemSize?: number;
  /** PAGE_SIZE (default 4096). */
  readonly pageSize?: number;
  /** Allocation model (default: every allocation succeeds). */
  readonly allocator?: SgAllocator;
}

/** An `Sg_scatter_hold` (reserve or private buffer) after `sg_build_indirect`. */
export interface SgBuffer {
  /** `bufflen`: the byte count rounded up to 512 (0 when nothing could be built). */
  readonly bufflen: number;
  /** `page_order` of every element. */
  readonly pageOrder: number;
  /** `k_use_sg`: elements allocated. */
  readonly elements: number;
  /** Bytes per element: PAGE_SIZE << page_order. */
  readonly elementSize: number;
}

/** The reserve plus the per-fd flags that gate it. */
export interface SgReserveState {
  /** The reserve buffer. */
  readonly buffer: SgBuffer;
  /** `mmap_called`: set by the first successful mmap(), never cleared. */
  readonly mmapCalled: boolean;
  /** `res_in_use`: a request currently holds the reserve. */
  readonly inUse: boolean;
}

/** The rules of the reserve operations, by id, with the Linux 6.1 code that applies them. */
export const RESERVE_RULES = {
  'sg-get-reserved-size': 'sg_ioctl_common, SG_GET_RESERVED_SIZE (drivers/scsi/sg.c)',
  'sg-set-reserved-size-negative': 'sg_ioctl_common, SG_SET_RESERVED_SIZE (drivers/scsi/sg.c)',
  'sg-set-reserved-size-unchanged': 'sg_ioctl_common, SG_SET_RESERVED_SIZE (drivers/scsi/sg.c)',
  'sg-set-reserved-size-after-mmap': 'sg_ioctl_common, SG_SET_RESERVED_SIZE (drivers/scsi/sg.c)',
  'sg-set-reserved-size-in-use': 'sg_ioctl_common, SG_SET_RESERVED_SIZE (drivers/scsi/sg.c)',
  'sg-set-reserved-size-rebuilt': 'sg_build_reserve via SG_SET_RESERVED_SIZE (drivers/scsi/sg.c)',
  'sg-mmap-offset': 'sg_mmap (drivers/scsi/sg.c)',
  'sg-mmap-too-long': 'sg_mmap (drivers/scsi/sg.c)',
  'sg-mmap-mapped': 'sg_mmap (drivers/scsi/sg.c)',
  'sg-reserve-linked': 'sg_start_req -> sg_link_reserve (drivers/scsi/sg.c)',
} as const;

/** The id of a reserve rule. */
export type ReserveRuleId = keyof typeof RESERVE_RULES;

/** Result of an operation: the new state and the syscall's return (0 or an errno name). */
export interface SgReserveOutcome<E extends string> {
  /** State after the call. */
  readonly state: SgReserveState;
  /** 0 on success, else the errno the syscall fails with. */
  readonly result: 0 | E;
  /** The rule's id in {@link RESERVE_RULES}. */
  readonly id: ReserveRuleId;
  /** The kernel rule that produced `result`. */
  readonly rule: string;
}

/** `get_order(size)`: smallest order with PAGE_SIZE << order >= size. */
export function pageOrder(size: number, pageSize = X86_64_PAGE_SIZE): number {
  let order = 0;
  while (pageSize * 2 ** order < size) order++;
  return order;
}

/** `max_sectors_bytes(q)` as sg.c computes it: `min(max_sectors, INT_MAX >> 9) << 9`. */
export function sgMaxSectorsBytes(limits: QueueLimits): number {
  return queueMaxBytes(limits);
}

/** The effective `scatter_elem_sz` (forced to at least PAGE_SIZE, as `init_sg` and `sg_build_indirect` do). */
export function sgScatterElemSize(env: SgEnvironment): number {
  const pageSize = env.pageSize ?? X86_64_PAGE_SIZE;
  return Math.max(env.scatterElemSize ?? SG_SCATTER_SZ, pageSize);
}

/**
 * `sg_build_indirect()` (6.1): rounds the size up to 512 (0 counts as 1);
 * uses up to sg_tablesize (= queue max_segments) elements of order
 * get_order(scatter_elem_sz); an element allocation failure frees everything
 * and retries with order - 1 (down to 0, then ENOMEM); running out of slots
 * before the size is covered is ENOMEM (max size = sg_tablesize x element size).
 */
export function sgBuildIndirect(
  size: number,
  env: SgEnvironment,
): { readonly buffer: SgBuffer; readonly result: 0 | 'ENOMEM' } {
  const pageSize = env.pageSize ?? X86_64_PAGE_SIZE;
  const blkSize = Math.ceil(Math.max(size, 1) / SECTOR_SIZE) * SECTOR_SIZE;
  const slots = env.limits.maxSegments;
  const maxOrder = env.allocator?.maxOrder ?? Number.POSITIVE_INFINITY;
  const pages = env.allocator?.pagesAvailable ?? Number.POSITIVE_INFINITY;
  for (let order = pageOrder(sgScatterElemSize(env), pageSize); order >= 0; order--) {
    const elementSize = pageSize * 2 ** order;
    const wanted = Math.min(Math.ceil(blkSize / elementSize), slots);
    const allocFails = order > maxOrder || wanted * 2 ** order > pages;
    if (allocFails) continue;
    const buffer: SgBuffer = { bufflen: blkSize, pageOrder: order, elements: wanted, elementSize };
    return { buffer, result: wanted * elementSize >= blkSize ? 0 : 'ENOMEM' };
  }
  return { buffer: { bufflen: 0, pageOrder: 0, elements: 0, elementSize: pageSize }, result: 'ENOMEM' };
}

/**
 * `sg_build_reserve()`: asks for max(size, PAGE_SIZE); on failure halves and
 * retries while the size stays above PAGE_SIZE / 2, so the reserve may end up
 * smaller than asked, or empty.
 */
export function sgBuildReserve(size: number, env: SgEnvironment): SgBuffer {
  const pageSize = env.pageSize ?? X86_64_PAGE_SIZE;
  let request = size;
  do {
    if (request < pageSize) request = pageSize;
    const built = sgBuildIndirect(request, env);
    if (built.result === 0) return built.buffer;
    request = Math.floor(request / 2);
  } while (request > pageSize / 2);
  return { bufflen: 0, pageOrder: 0, elements: 0, elementSize: pageSize };
}

/**
 * `sg_link_reserve()` (drivers/scsi/sg.c): a request of `size` bytes (at most the reserve's
 * bufflen; `sg_start_req` checks that first) borrows the reserve's first elements, as many
 * as cover `size`. Their count becomes the request's `k_use_sg`, which `sg_start_req` hands
 * to the block layer as `rq_map_data.nr_entries`: the pages `bio_copy_user_iov` may use.
 */
export function sgLinkReserve(reserve: SgBuffer, size: number): SgBuffer {
  const elements = Math.min(reserve.elements, Math.max(1, Math.ceil(size / reserve.elementSize)));
  return { bufflen: size, pageOrder: reserve.pageOrder, elements, elementSize: reserve.elementSize };
}

/**
 * The reserve a new fd gets in `sg_add_sfp()`: size = min(def_reserved_size,
 * max_sectors_bytes) (default def_reserved_size 32768), built by
 * {@link sgBuildReserve}.
 */
export function sgOpenReserve(env: SgEnvironment, defReservedSize = SG_DEF_RESERVED_SIZE): SgReserveState {
  const size = Math.min(defReservedSize, sgMaxSectorsBytes(env.limits));
  return { buffer: sgBuildReserve(size, env), mmapCalled: false, inUse: false };
}

/** SG_GET_RESERVED_SIZE: min(reserve bufflen, max_sectors_bytes). */
export function sgGetReservedSize(state: SgReserveState, env: SgEnvironment): number {
  return Math.min(state.buffer.bufflen, sgMaxSectorsBytes(env.limits));
}

/**
 * SG_SET_RESERVED_SIZE (6.1): a negative value is EINVAL; the value is
 * clamped to max_sectors_bytes; if it differs from the current bufflen and
 * mmap() was ever called on the fd or the reserve is in use, EBUSY; otherwise
 * the reserve is rebuilt with {@link sgBuildReserve}. An equal value is a no-op
 * returning 0. (bufflen is the 512-rounded, PAGE_SIZE-floored size, so asking
 * for 1000 twice rebuilds twice, and after an mmap asking for 1000 when the
 * reserve is 4096 is EBUSY.)
 */
export function sgSetReservedSize(
  state: SgReserveState,
  value: number,
  env: SgEnvironment,
): SgReserveOutcome<'EINVAL' | 'EBUSY'> {
  if (!Number.isSafeInteger(value))
    throw new InvalidFieldError('value', 'must be a safe integer (C int)', value);
  if (value < 0) {
    return {
      state,
      result: 'EINVAL',
      id: 'sg-set-reserved-size-negative',
      rule: 'SG_SET_RESERVED_SIZE with a negative size',
    };
  }
  const clamped = Math.min(value, sgMaxSectorsBytes(env.limits));
  if (clamped === state.buffer.bufflen) {
    return {
      state,
      result: 0,
      id: 'sg-set-reserved-size-unchanged',
      rule: 'same size as the current reserve: no-op',
    };
  }
  if (state.mmapCalled) {
    return {
      state,
      result: 'EBUSY',
      id: 'sg-set-reserved-size-after-mmap',
      rule: 'size change after mmap() was called on this fd (mmap_called)',
    };
  }
  if (state.inUse) {
    return {
      state,
      result: 'EBUSY',
      id: 'sg-set-reserved-size-in-use',
      rule: 'size change while a request uses the reserve',
    };
  }
  return {
    state: { ...state, buffer: sgBuildReserve(clamped, env) },
    result: 0,
    id: 'sg-set-reserved-size-rebuilt',
    rule: `reserve rebuilt for ${clamped} bytes (value clamped to max_sectors_bytes)`,
  };
}

/** An mmap() call on an sg fd. */
export interface SgMmapRequest {
  /** Mapping length in bytes as passed to mmap (the VMA is this rounded up to pages). */
  readonly length: number;
  /** `vm_pgoff`: offset in pages. */
  readonly pageOffset?: number;
}

/**
 * `sg_mmap()` (6.1): an offset is EINVAL; a VMA (length rounded up to pages)
 * longer than the reserve's bufflen is ENOMEM; otherwise success, which sets
 * `mmap_called` for good. MAP_SHARED is not checked; repeated mmaps are fine.
 */
export function sgMmap(
  state: SgReserveState,
  request: SgMmapRequest,
  pageSize = X86_64_PAGE_SIZE,
): SgReserveOutcome<'EINVAL' | 'ENOMEM'> {
  if ((request.pageOffset ?? 0) !== 0)
    return { state, result: 'EINVAL', id: 'sg-mmap-offset', rule: 'mmap with a non-zero offset' };
  const vmaLength = Math.ceil(request.length / pageSize) * pageSize;
  if (vmaLength > state.buffer.bufflen) {
    return {
      state,
      result: 'ENOMEM',
      id: 'sg-mmap-too-long',
      rule: `mapping of ${vmaLength} bytes (whole pages) exceeds the reserve's ${state.buffer.bufflen}`,
    };
  }
  return {
    state: { ...state, mmapCalled: true },
    result: 0,
    id: 'sg-mmap-mapped',
    rule: 'reserve mapped; mmap_called set',
  };
}

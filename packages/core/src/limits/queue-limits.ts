/**
 * `struct queue_limits` of Linux 6.1 (include/linux/blkdev.h), plus the two
 * request_queue fields the data path reads (`dma_pad_mask`, bounce), with the
 * defaults of `blk_set_default_limits()` and the clamping rules of the setters
 * in block/blk-settings.c. Setters are pure: they return a new object.
 * @module
 */
import {
  BLK_DEF_MAX_SECTORS,
  BLK_DEFAULT_DMA_ALIGNMENT,
  BLK_MAX_SEGMENT_SIZE,
  BLK_MAX_SEGMENTS,
  BLK_SAFE_MAX_SECTORS,
  BLK_SEG_BOUNDARY_MASK,
  LINUX_UINT_MAX,
  SECTOR_SHIFT,
  X86_64_PAGE_SIZE,
} from './constants.js';

/**
 * What a request queue says the hardware can do, in the kernel's units
 * (sectors are 512 bytes, masks are 2^k - 1). Field names follow
 * `struct queue_limits` in camelCase.
 */
export interface QueueLimits {
  /** `max_segments`: most scatterlist entries one request may have. */
  readonly maxSegments: number;
  /** `max_segment_size`: most bytes in one scatterlist entry. */
  readonly maxSegmentSize: number;
  /** `seg_boundary_mask`: no segment may cross an address multiple of `mask + 1`. */
  readonly segBoundaryMask: number;
  /** `virt_boundary_mask`: interior segment starts and ends must be aligned to it (0 = none). */
  readonly virtBoundaryMask: number;
  /** `dma_alignment`: user buffers (address and length) must be aligned to `mask + 1` for zero-copy. */
  readonly dmaAlignment: number;
  /** `q->dma_pad_mask`: transfers are padded to `mask + 1`; also part of the zero-copy alignment test. */
  readonly dmaPadMask: number;
  /** `logical_block_size` in bytes. */
  readonly logicalBlockSize: number;
  /** `physical_block_size` in bytes. */
  readonly physicalBlockSize: number;
  /** `io_min` in bytes (sysfs minimum_io_size). */
  readonly ioMin: number;
  /** `io_opt` in bytes (sysfs optimal_io_size; 0 = not reported). */
  readonly ioOpt: number;
  /** `max_hw_sectors`: the hardware's transfer limit; passthrough requests are held to it. */
  readonly maxHwSectors: number;
  /** `max_sectors`: the soft limit for file-system I/O; sg's reserved buffer is capped by it. */
  readonly maxSectors: number;
  /** `max_dev_sectors`: the device's own limit (0 = none reported). */
  readonly maxDevSectors: number;
  /** `max_discard_segments`. */
  readonly maxDiscardSegments: number;
  /**
   * `blk_queue_may_bounce()`: the queue bounces highmem pages. Always false on
   * x86-64 (no highmem), kept so the copy rule can be shown firing.
   */
  readonly bounceHighmem: boolean;
}

/**
 * `blk_set_default_limits()` (block/blk-settings.c, 6.1): max_segments 128,
 * max_segment_size 65536, seg_boundary_mask 0xFFFFFFFF, no virt boundary,
 * dma_alignment 511, max_sectors = max_hw_sectors = 255, block sizes 512,
 * max_discard_segments 1; `dma_pad_mask` starts at 0.
 */
export function defaultQueueLimits(): QueueLimits {
  return {
    maxSegments: BLK_MAX_SEGMENTS,
    maxSegmentSize: BLK_MAX_SEGMENT_SIZE,
    segBoundaryMask: BLK_SEG_BOUNDARY_MASK,
    virtBoundaryMask: 0,
    dmaAlignment: BLK_DEFAULT_DMA_ALIGNMENT,
    dmaPadMask: 0,
    logicalBlockSize: 512,
    physicalBlockSize: 512,
    ioMin: 512,
    ioOpt: 0,
    maxHwSectors: BLK_SAFE_MAX_SECTORS,
    maxSectors: BLK_SAFE_MAX_SECTORS,
    maxDevSectors: 0,
    maxDiscardSegments: 1,
    bounceHighmem: false,
  };
}

/** `round_down(value, multiple)` for a positive multiple. */
function roundDown(value: number, multiple: number): number {
  return value - (value % multiple);
}

/** `min_not_zero(a, b)`. */
function minNotZero(a: number, b: number): number {
  if (a === 0) return b;
  if (b === 0) return a;
  return Math.min(a, b);
}

/**
 * `blk_queue_max_segments()`: 0 becomes 1 (with a kernel log line).
 */
export function setMaxSegments(limits: QueueLimits, maxSegments: number): QueueLimits {
  return { ...limits, maxSegments: maxSegments === 0 ? 1 : maxSegments };
}

/**
 * `blk_queue_max_segment_size()`: values below PAGE_SIZE become PAGE_SIZE.
 * (The kernel WARNs when a virt boundary is already set; the virt-boundary
 * setter then forces UINT_MAX anyway.)
 */
export function setMaxSegmentSize(
  limits: QueueLimits,
  maxSegmentSize: number,
  pageSize = X86_64_PAGE_SIZE,
): QueueLimits {
  return { ...limits, maxSegmentSize: Math.max(maxSegmentSize, pageSize) };
}

/** `blk_queue_segment_boundary()`: masks below PAGE_SIZE - 1 become PAGE_SIZE - 1. */
export function setSegmentBoundary(
  limits: QueueLimits,
  mask: number,
  pageSize = X86_64_PAGE_SIZE,
): QueueLimits {
  return { ...limits, segBoundaryMask: Math.max(mask, pageSize - 1) };
}

/**
 * `blk_queue_virt_boundary()`: stores the mask; a non-zero mask sets
 * max_segment_size to UINT_MAX (segments are then bounded by the boundary
 * rule instead).
 */
export function setVirtBoundary(limits: QueueLimits, mask: number): QueueLimits {
  return {
    ...limits,
    virtBoundaryMask: mask,
    maxSegmentSize: mask !== 0 ? LINUX_UINT_MAX : limits.maxSegmentSize,
  };
}

/** `blk_queue_dma_alignment()`: replaces dma_alignment. */
export function setDmaAlignment(limits: QueueLimits, mask: number): QueueLimits {
  return { ...limits, dmaAlignment: mask };
}

/** `blk_queue_update_dma_alignment()`: raises dma_alignment, never lowers it. */
export function updateDmaAlignment(limits: QueueLimits, mask: number): QueueLimits {
  return { ...limits, dmaAlignment: Math.max(limits.dmaAlignment, mask) };
}

/** `blk_queue_update_dma_pad()`: raises dma_pad_mask, never lowers it. */
export function updateDmaPad(limits: QueueLimits, mask: number): QueueLimits {
  return { ...limits, dmaPadMask: Math.max(limits.dmaPadMask, mask) };
}

/**
 * `blk_queue_max_hw_sectors()` (6.1): if `max_hw_sectors << 9` is below
 * PAGE_SIZE it becomes PAGE_SIZE / 512 (the shift is done in 32-bit
 * `unsigned int`, so values of 2^23 or more wrap; modelled exactly); the value
 * is rounded down to the logical block size; max_sectors becomes
 * min(min_not_zero(max_hw_sectors, max_dev_sectors), BLK_DEF_MAX_SECTORS = 2560),
 * also rounded down to the logical block size.
 */
export function setMaxHwSectors(
  limits: QueueLimits,
  maxHwSectors: number,
  pageSize = X86_64_PAGE_SIZE,
): QueueLimits {
  const lbsSectors = limits.logicalBlockSize >> SECTOR_SHIFT;
  let hw = maxHwSectors >>> 0;
  const shifted = (hw << SECTOR_SHIFT) >>> 0;
  if (shifted < pageSize) hw = pageSize >> SECTOR_SHIFT;
  hw = roundDown(hw, lbsSectors);
  let soft = minNotZero(hw, limits.maxDevSectors);
  soft = Math.min(soft, BLK_DEF_MAX_SECTORS);
  soft = roundDown(soft, lbsSectors);
  return { ...limits, maxHwSectors: hw, maxSectors: soft };
}

/**
 * `blk_queue_logical_block_size()`: physical_block_size and io_min are raised
 * to at least the logical size; max_hw_sectors and max_sectors are rounded
 * down to it.
 */
export function setLogicalBlockSize(limits: QueueLimits, size: number): QueueLimits {
  const physicalBlockSize = Math.max(limits.physicalBlockSize, size);
  const lbsSectors = size >> SECTOR_SHIFT;
  return {
    ...limits,
    logicalBlockSize: size,
    physicalBlockSize,
    ioMin: Math.max(limits.ioMin, physicalBlockSize),
    maxHwSectors: roundDown(limits.maxHwSectors, lbsSectors),
    maxSectors: roundDown(limits.maxSectors, lbsSectors),
  };
}

/**
 * `blk_queue_physical_block_size()`: at least the logical size; io_min is
 * raised to it.
 */
export function setPhysicalBlockSize(limits: QueueLimits, size: number): QueueLimits {
  const physicalBlockSize = Math.max(size, limits.logicalBlockSize);
  return { ...limits, physicalBlockSize, ioMin: Math.max(limits.ioMin, physicalBlockSize) };
}

/**
 * `queue_max_bytes()` (include/linux/blkdev.h, 6.1):
 * `min(max_sectors, INT_MAX >> 9) << 9`. sg caps its reserved buffer by it and
 * block SG_IO's SG_GET_RESERVED_SIZE reports at most it.
 */
export function queueMaxBytes(limits: QueueLimits): number {
  return Math.min(limits.maxSectors, 0x7fff_ffff >> SECTOR_SHIFT) * 512;
}

/** `max_hw_sectors * 512`: the true byte limit of one passthrough request (bio and merge checks). */
export function maxHwBytes(limits: QueueLimits): number {
  return limits.maxHwSectors * 512;
}

/**
 * `queue_max_hw_sectors(q) << 9` evaluated in 32-bit `unsigned int`, as block
 * SG_IO's too-large check (drivers/scsi/scsi_ioctl.c `sg_io`) computes it: for
 * max_hw_sectors >= 2^23 the product wraps (scsi_debug's 0xFFFFFFFF gives
 * 0xFFFFFE00).
 */
export function maxHwBytesU32(limits: QueueLimits): number {
  return (limits.maxHwSectors << 9) >>> 0;
}

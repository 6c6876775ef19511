/**
 * How the SCSI midlayer turns a host template into queue limits in Linux 6.1:
 * `scsi_host_alloc()` (drivers/scsi/hosts.c) fills the host from the template
 * and `__scsi_init_queue()` (drivers/scsi/scsi_lib.c) applies it to each
 * device's request queue.
 * @module
 */
import {
  BLK_MAX_SEGMENT_SIZE,
  LINUX_UINT_MAX,
  SCSI_DEFAULT_MAX_SECTORS,
  SG_MAX_SEGMENTS,
  X86_64_PAGE_SIZE,
} from './constants.js';
import {
  defaultQueueLimits,
  type QueueLimits,
  setDmaAlignment,
  setMaxHwSectors,
  setMaxSegmentSize,
  setMaxSegments,
  setSegmentBoundary,
  setVirtBoundary,
} from './queue-limits.js';

/** The `struct scsi_host_template` fields that shape a queue (0 = "use the midlayer default"). */
export interface ScsiHostTemplate {
  /** `sg_tablesize` (unsigned short): scatterlist entries the HBA takes per command. */
  readonly sgTablesize: number;
  /** `max_sectors`: 0 means SCSI_DEFAULT_MAX_SECTORS (1024). */
  readonly maxSectors?: number;
  /** `dma_boundary`: 0 means 0xFFFFFFFF. */
  readonly dmaBoundary?: number;
  /** `max_segment_size`: 0 means BLK_MAX_SEGMENT_SIZE (65536). */
  readonly maxSegmentSize?: number;
  /** `virt_boundary_mask`: 0 means none. */
  readonly virtBoundaryMask?: number;
}

/** Platform inputs of the derivation. */
export interface ScsiPlatform {
  /** PAGE_SIZE (4096 on x86-64). */
  readonly pageSize?: number;
  /**
   * `dma_get_cache_alignment()`: 1 on x86-64 (no ARCH_DMA_MINALIGN), so the
   * queue's dma_alignment is max(4, 1) - 1 = 3.
   */
  readonly dmaCacheAlignment?: number;
}

/**
 * The queue limits a SCSI device gets from its host (6.1):
 * - `scsi_host_alloc()`: max_segment_size = template value or 65536;
 *   dma_boundary = template value or 0xFFFFFFFF; max_sectors = template value or 1024.
 * - `__scsi_init_queue()`: max_segments = min(sg_tablesize, SG_MAX_SEGMENTS = 2048)
 *   (then `blk_queue_max_segments`, 0 -> 1); `blk_queue_max_hw_sectors(max_sectors)`
 *   (which also sets max_sectors = min(hw, 2560)); segment boundary, max
 *   segment size and virt boundary through their setters (a virt boundary forces
 *   max_segment_size = UINT_MAX); dma_alignment = max(4, dma_get_cache_alignment()) - 1.
 *
 * Not modelled: `scsi_add_host_with_dma()` lowering max_sectors to the DMA
 * mapping limit (only with an IOMMU/swiotlb limit), protection (DIF)
 * segments, and what a upper-level driver (sd) changes later: see
 * {@link applySdMaxSectors}.
 */
export function scsiQueueLimits(template: ScsiHostTemplate, platform: ScsiPlatform = {}): QueueLimits {
  const pageSize = platform.pageSize ?? X86_64_PAGE_SIZE;
  const cacheAlignment = platform.dmaCacheAlignment ?? 1;
  const hostMaxSegmentSize = template.maxSegmentSize || BLK_MAX_SEGMENT_SIZE;
  const hostDmaBoundary = template.dmaBoundary || LINUX_UINT_MAX;
  const hostMaxSectors = template.maxSectors || SCSI_DEFAULT_MAX_SECTORS;
  // min_t(unsigned short, ...): the template value is an unsigned short.
  const tablesize = Math.min(template.sgTablesize & 0xffff, SG_MAX_SEGMENTS);
  let limits = setMaxSegments(defaultQueueLimits(), tablesize);
  limits = setMaxHwSectors(limits, hostMaxSectors, pageSize);
  limits = setSegmentBoundary(limits, hostDmaBoundary, pageSize);
  limits = setMaxSegmentSize(limits, hostMaxSegmentSize, pageSize);
  limits = setVirtBoundary(limits, template.virtBoundaryMask ?? 0);
  return setDmaAlignment(limits, Math.max(4, cacheAlignment) - 1);
}

/**
 * What sd does to max_sectors in `sd_revalidate_disk()` (drivers/scsi/sd.c,
 * 6.1): when the Block Limits VPD reports a usable optimal transfer length,
 * io_opt = that many bytes and max_sectors = min(it in sectors, max_hw_sectors);
 * otherwise max_sectors = min(min_not_zero(max transfer, BLK_DEF_MAX_SECTORS),
 * max_hw_sectors). sg shares the request queue, so this caps sg's reserve too.
 * Here the caller passes the resulting sector count ([U]: only the optimal
 * transfer-length branch is exercised, by scsi_debug's opt_blks = 1024).
 */
export function applySdMaxSectors(limits: QueueLimits, maxSectors: number, ioOpt = 0): QueueLimits {
  return { ...limits, maxSectors: Math.min(maxSectors, limits.maxHwSectors), ioOpt };
}

/**
 * `__blk_rq_map_sg()` (block/blk-merge.c, Linux 6.1): the request's bvecs
 * turned into the scatterlist the HBA sees, plus the dma_pad_mask padding
 * `scsi_alloc_sgtables()` adds to the last entry.
 * @module
 */
import { maskedBits, sameWindow } from '../limits/mask.js';
import type { QueueLimits } from '../limits/queue-limits.js';
import type { Bvec } from './bio-builder.js';

/** One scatterlist entry. */
export interface ScatterlistSegment {
  /** `sg_phys()`: physical address of the first byte. */
  readonly physicalAddress: number;
  /** `sg->length` in bytes (the last entry includes any DMA padding). */
  readonly length: number;
  /** `sg->offset`: offset in its page, always below PAGE_SIZE. */
  readonly pageOffset: number;
  /** Offset of its first byte in the request's data stream. */
  readonly requestOffset: number;
  /** The ATAPI DMA drain entry `scsi_alloc_sgtables` appends (not request data). */
  readonly drain?: true;
}

/**
 * `get_max_segment_size()`: bytes from `address` to the next seg_boundary
 * boundary, capped by max_segment_size (`min_not_zero`: a boundary of the whole
 * address space yields max_segment_size).
 */
export function maxSegmentBytesAt(limits: QueueLimits, address: number): number {
  const toBoundary = limits.segBoundaryMask - maskedBits(address, limits.segBoundaryMask) + 1;
  return Math.min(toBoundary, limits.maxSegmentSize);
}

/**
 * `biovec_phys_mergeable()`: `b` starts where `a` ends and the range from a's
 * start to b's end lies in one seg_boundary window.
 */
function physMergeable(limits: QueueLimits, a: Bvec, b: Bvec): boolean {
  if (a.physicalAddress + a.length !== b.physicalAddress) return false;
  return sameWindow(a.physicalAddress, b.physicalAddress + b.length - 1, limits.segBoundaryMask);
}

/**
 * Maps the bios to scatterlist entries as `__blk_bios_map_sg()` does:
 * - only the first bvec of a bio may merge into the previous entry
 *   (`__blk_segment_map_sg_merge`: entry length + bvec length <=
 *   max_segment_size and the previous bio's last bvec is physically mergeable
 *   with it); bvecs inside a bio were already merged by `bio_add_hw_page`;
 * - a bvec within one page becomes one entry (`__blk_bvec_map_sg`);
 * - a bvec past its page is split (`blk_bvec_map_sg`) into entries of at most
 *   `get_max_segment_size()` bytes, offsets normalised below PAGE_SIZE.
 * KMSAN builds never merge across bios; this models a non-KMSAN kernel.
 */
export function mapBiosToSegments(
  bios: readonly (readonly Bvec[])[],
  limits: QueueLimits,
  pageSize: number,
): ScatterlistSegment[] {
  const out: ScatterlistSegment[] = [];
  let previousBioLast: Bvec | undefined;
  for (const bio of bios) {
    bio.forEach((bvec, i) => {
      const tail = out[out.length - 1];
      if (
        i === 0 &&
        previousBioLast !== undefined &&
        tail !== undefined &&
        tail.length + bvec.length <= limits.maxSegmentSize &&
        physMergeable(limits, previousBioLast, bvec)
      ) {
        out[out.length - 1] = { ...tail, length: tail.length + bvec.length };
        return;
      }
      const pageOffset = bvec.physicalAddress % pageSize;
      if (pageOffset + bvec.length <= pageSize) {
        out.push({
          physicalAddress: bvec.physicalAddress,
          length: bvec.length,
          pageOffset,
          requestOffset: bvec.requestOffset,
        });
        return;
      }
      let done = 0;
      while (done < bvec.length) {
        const address = bvec.physicalAddress + done;
        const length = Math.min(maxSegmentBytesAt(limits, address), bvec.length - done);
        out.push({
          physicalAddress: address,
          length,
          pageOffset: address % pageSize,
          requestOffset: bvec.requestOffset + done,
        });
        done += length;
      }
    });
    const last = bio[bio.length - 1];
    if (last !== undefined) previousBioLast = last;
  }
  return out;
}

/**
 * `scsi_alloc_sgtables()`: when the request length is not a multiple of
 * `dma_pad_mask + 1`, the last entry grows by `(dma_pad_mask & ~bytes) + 1`
 * (also counted in `cmd->extra_len`). Returns the padding added.
 */
export function padLastSegment(
  segments: ScatterlistSegment[],
  totalBytes: number,
  limits: QueueLimits,
): number {
  const mask = limits.dmaPadMask;
  if (mask === 0 || maskedBits(totalBytes, mask) === 0) return 0;
  const pad = mask - maskedBits(totalBytes, mask) + 1;
  const last = segments[segments.length - 1];
  if (last !== undefined) segments[segments.length - 1] = { ...last, length: last.length + pad };
  return pad;
}

/**
 * The zero-copy or copy (bounce) decision of `blk_rq_map_user_iov()`
 * (block/blk-map.c, Linux 6.1), with the rule and the iovec that forced a copy.
 * @module
 */

import { maskedBits } from '../limits/mask.js';
import type { QueueLimits } from '../limits/queue-limits.js';
import type { UserIovec } from './iovec.js';

/** Which rule of `blk_rq_map_user_iov()` forced the copy. */
export type CopyRule = 'rq-map-data' | 'bounce-highmem' | 'dma-alignment' | 'virt-boundary-gap';

/** Why a request is copied instead of mapped zero-copy. */
export interface CopyReason {
  /** The rule, in the order the kernel tests them. */
  readonly rule: CopyRule;
  /** Index of the iovec that broke the rule (absent for the caller/queue-wide rules). */
  readonly iovecIndex?: number;
  /** The offending part: the iovec's start address, its length, or the gap (previous end | start). */
  readonly part?: 'address' | 'length' | 'gap';
  /** The value tested and the mask it was tested against. */
  readonly value?: number;
  /** The mask (`dma_alignment | dma_pad_mask`, or `virt_boundary_mask`). */
  readonly mask?: number;
  /** One sentence: the kernel rule and its source. */
  readonly explanation: string;
}

/**
 * The first iovec part that `iov_iter_alignment()` would flag: it ORs every
 * non-empty iovec's base and length (the last one cut to the remaining
 * count, which the caller has done by truncating) and the result is tested
 * against `mask`.
 */
function firstMisaligned(iovecs: readonly UserIovec[], mask: number): CopyReason | undefined {
  for (let i = 0; i < iovecs.length; i++) {
    const iov = iovecs[i]!;
    if (iov.length === 0) continue;
    const part =
      maskedBits(iov.address, mask) !== 0
        ? 'address'
        : maskedBits(iov.length, mask) !== 0
          ? 'length'
          : undefined;
    if (part !== undefined) {
      return {
        rule: 'dma-alignment',
        iovecIndex: i,
        part,
        value: part === 'address' ? iov.address : iov.length,
        mask,
        explanation:
          `iovec ${i} ${part} is not aligned to dma_alignment | dma_pad_mask = ${mask} ` +
          '(iov_iter_alignment() & align in blk_rq_map_user_iov)',
      };
    }
  }
  return undefined;
}

/**
 * The first interior gap that `iov_iter_gap_alignment()` would flag: for each
 * non-empty iovec after the first, its start OR the previous iovec's end,
 * tested against `virt_boundary_mask`.
 */
function firstGap(iovecs: readonly UserIovec[], mask: number): CopyReason | undefined {
  let prevEnd: number | undefined;
  for (let i = 0; i < iovecs.length; i++) {
    const iov = iovecs[i]!;
    if (iov.length === 0) continue;
    if (prevEnd !== undefined && (maskedBits(iov.address, mask) !== 0 || maskedBits(prevEnd, mask) !== 0)) {
      return {
        rule: 'virt-boundary-gap',
        iovecIndex: i,
        part: 'gap',
        value: maskedBits(iov.address, mask) !== 0 ? iov.address : prevEnd,
        mask,
        explanation:
          `iovec ${i} starts (or iovec ${i - 1} ends) off the virt_boundary_mask ${mask}: a gap the device ` +
          'cannot take (iov_iter_gap_alignment() in blk_rq_map_user_iov)',
      };
    }
    prevEnd = iov.address + iov.length;
  }
  return undefined;
}

/**
 * `blk_rq_map_user_iov()` copies when, in this order: the caller passed
 * `rq_map_data` (sg's indirect, reserve and mmap paths); the queue may bounce
 * highmem; any iovec base or length is misaligned to
 * `dma_pad_mask | dma_alignment`; (a bvec or kernel iterator: not modelled,
 * user iovecs are always ITER_IOVEC/ITER_UBUF); a virt boundary is set and an
 * interior gap is misaligned to it. Returns undefined for zero-copy (pages pinned).
 * `iovecs` must already be truncated to the transfer length.
 */
export function copyDecision(
  iovecs: readonly UserIovec[],
  limits: QueueLimits,
  hasMapData: boolean,
): CopyReason | undefined {
  if (hasMapData) {
    return {
      rule: 'rq-map-data',
      explanation:
        'the caller supplied rq_map_data (sg maps into its reserve or an indirect buffer unless direct IO is used)',
    };
  }
  if (limits.bounceHighmem) {
    return {
      rule: 'bounce-highmem',
      explanation: 'the queue may bounce highmem pages (blk_queue_may_bounce)',
    };
  }
  const align = limits.dmaAlignment | limits.dmaPadMask;
  const misaligned = firstMisaligned(iovecs, align);
  if (misaligned) return misaligned;
  if (limits.virtBoundaryMask !== 0) return firstGap(iovecs, limits.virtBoundaryMask);
  return undefined;
}

/**
 * `blk_rq_aligned(q, addr, len)` (include/linux/blkdev.h): address and length
 * both aligned to `dma_alignment | dma_pad_mask`. sg tests it before choosing
 * direct IO.
 */
export function blkRqAligned(limits: QueueLimits, address: number, length: number): boolean {
  const align = limits.dmaAlignment | limits.dmaPadMask;
  return maskedBits(address, align) === 0 && maskedBits(length, align) === 0;
}

/**
 * Building the bios of a passthrough request (Linux 6.1): `bio_map_user_iov()`
 * (zero-copy, pinned user pages) and `bio_copy_user_iov()` (copy into bounce
 * or sg buffer pages), both adding pages with `bio_add_hw_page()` and joining
 * bios with `blk_rq_append_bio()` (block/blk-map.c, block/bio.c, block/blk-merge.c).
 * @module
 */
import { BIO_MAX_VECS } from '../limits/constants.js';
import { maskedBits, sameWindow } from '../limits/mask.js';
import type { QueueLimits } from '../limits/queue-limits.js';
import type { PageFrameMapping, UserIovec } from './iovec.js';

/** One `struct bio_vec`, flattened: physical start (page + offset) and length. */
export interface Bvec {
  /** `page_to_phys(bv_page) + bv_offset`. */
  readonly physicalAddress: number;
  /** `bv_len`; a merged bvec may span several physically contiguous pages. */
  readonly length: number;
  /** Offset of its first byte in the request's data stream. */
  readonly requestOffset: number;
}

/** A piece of data the mapper offers to `bio_add_hw_page()`: at most one page. */
interface Piece {
  physicalAddress: number;
  length: number;
  requestOffset: number;
}

/** First physical frame of modelled bounce pages (each `alloc_page()` result is assumed non-adjacent). */
export const BOUNCE_FRAME_BASE = 2 ** 36;
/** First physical frame of modelled sg buffer elements (each element contiguous, elements non-adjacent). */
export const SG_BUFFER_FRAME_BASE = 2 ** 37;

/** Where a copy (bounce) maps the data. */
export type CopyTarget =
  | {
      /** Fresh `alloc_page()` pages, one per PAGE_SIZE (bsg, block SG_IO): never physically adjacent. */
      readonly kind: 'bounce-pages';
    }
  | {
      /**
       * sg's reserve or indirect buffer (`rq_map_data`): `elements` blocks of
       * `elementSize` bytes (PAGE_SIZE << page_order), each physically
       * contiguous, no two adjacent.
       */
      readonly kind: 'sg-buffer';
      /** Bytes per element. */
      readonly elementSize: number;
      /** Number of elements (`k_use_sg`). */
      readonly elements: number;
    };

/** Result of building the bios. */
export type BioBuildResult =
  | {
      /** Every byte was mapped. */
      readonly ok: true;
      /** The bios, in order, each a list of bvecs. */
      readonly bios: readonly (readonly Bvec[])[];
      /** `rq->nr_phys_segments`: the bvec count summed over bios (no cross-bio merge yet). */
      readonly nrPhysSegments: number;
    }
  | {
      /** Mapping failed. */
      readonly ok: false;
      /** The errno the mapping returns. */
      readonly errno: 'EINVAL' | 'ENOMEM';
      /** The rule and function that refused. */
      readonly rule: string;
    };

/** Physical address of a user virtual address under a page-frame mapping. */
export function userPhysicalAddress(address: number, mapping: PageFrameMapping, pageSize: number): number {
  const page = Math.floor(address / pageSize);
  return mapping.toPhysical(page) * pageSize + (address - page * pageSize);
}

/** Pieces of a zero-copy mapping: each iovec's pages, in order, split at page boundaries. */
function* userPieces(
  iovecs: readonly UserIovec[],
  mapping: PageFrameMapping,
  pageSize: number,
): Generator<Piece> {
  let requestOffset = 0;
  for (const iov of iovecs) {
    let address = iov.address;
    let left = iov.length;
    while (left > 0) {
      const inPage = pageSize - (address % pageSize);
      const length = Math.min(inPage, left);
      yield { physicalAddress: userPhysicalAddress(address, mapping, pageSize), length, requestOffset };
      address += length;
      requestOffset += length;
      left -= length;
    }
  }
}

/** Physical address of byte `offset` of a copy target. */
export function copyTargetPhysicalAddress(target: CopyTarget, offset: number, pageSize: number): number {
  if (target.kind === 'bounce-pages') {
    const page = Math.floor(offset / pageSize);
    return (BOUNCE_FRAME_BASE + 2 * page) * pageSize + (offset % pageSize);
  }
  const element = Math.floor(offset / target.elementSize);
  const framesPerElement = target.elementSize / pageSize;
  return (SG_BUFFER_FRAME_BASE + 2 * element * framesPerElement) * pageSize + (offset % target.elementSize);
}

/** Pages (iov_iter_npages) still to map from `pieces[from]`, for the bio's `nr_vecs`. */
function pagesLeft(pieces: readonly Piece[], from: number): number {
  return pieces.length - from;
}

/**
 * Adds `piece` to the bio like `bio_add_hw_page()` (6.1) and returns whether it
 * fit: refused when the bio would exceed max_hw_sectors; merged into the last
 * bvec when `bio_try_merge_hw_seg()` allows (same seg_boundary window for the
 * merged range, merged length <= max_segment_size, physically contiguous);
 * refused when a virt-boundary gap would form (`bvec_gap_to_prev`), when the
 * bio is full (`nr_vecs` slots) or has max_segments bvecs.
 */
function bioAddHwPage(
  bio: Bvec[],
  bioBytes: number,
  piece: Piece,
  limits: QueueLimits,
  capacity: number,
): boolean {
  if (Math.floor((bioBytes + piece.length) / 512) > limits.maxHwSectors) return false;
  const last = bio[bio.length - 1];
  if (last !== undefined) {
    const mergeable =
      sameWindow(last.physicalAddress, piece.physicalAddress + piece.length - 1, limits.segBoundaryMask) &&
      last.length + piece.length <= limits.maxSegmentSize &&
      last.physicalAddress + last.length === piece.physicalAddress;
    if (mergeable) {
      bio[bio.length - 1] = { ...last, length: last.length + piece.length };
      return true;
    }
    if (bvecGapToPrev(limits, last, piece.physicalAddress)) return false;
  }
  if (bio.length >= capacity) return false;
  if (bio.length >= limits.maxSegments) return false;
  bio.push({ ...piece });
  return true;
}

/**
 * `bvec_gap_to_prev()` (block/blk.h): with a virt boundary, a new bvec may only
 * follow one that ends on the boundary, and must itself start on it.
 */
export function bvecGapToPrev(limits: QueueLimits, previous: Bvec, nextAddress: number): boolean {
  const mask = limits.virtBoundaryMask;
  if (mask === 0) return false;
  return (
    maskedBits(previous.physicalAddress + previous.length, mask) !== 0 || maskedBits(nextAddress, mask) !== 0
  );
}

/**
 * `ll_back_merge_fn()` for a passthrough request joining bio `next`:
 * refused on a virt-boundary gap (`req_gap_back_merge`), when the sectors
 * would exceed `blk_rq_get_max_sectors()` = max_hw_sectors for passthrough,
 * or when the segments would exceed max_segments (`ll_new_hw_segment`).
 */
function backMergeRefusal(
  limits: QueueLimits,
  requestBytes: number,
  requestSegments: number,
  previous: Bvec,
  next: readonly Bvec[],
  nextBytes: number,
): string | undefined {
  const first = next[0];
  if (first !== undefined && bvecGapToPrev(limits, previous, first.physicalAddress)) {
    return 'the next bio would leave a virt-boundary gap (req_gap_back_merge in ll_back_merge_fn)';
  }
  if (Math.floor(requestBytes / 512) + Math.floor(nextBytes / 512) > limits.maxHwSectors) {
    return `the request would exceed max_hw_sectors ${limits.maxHwSectors} (ll_back_merge_fn via blk_rq_append_bio)`;
  }
  if (requestSegments + next.length > limits.maxSegments) {
    return `the request would exceed max_segments ${limits.maxSegments} (ll_new_hw_segment via blk_rq_append_bio)`;
  }
  return undefined;
}

/**
 * Feeds `pieces` into bios the way `blk_rq_map_user_iov()` loops over
 * `bio_map_user_iov()` / `bio_copy_user_iov()`: each bio gets
 * min(pages left, BIO_MAX_VECS) slots; when a piece does not fit, the bio is
 * appended to the request (`blk_rq_append_bio`, which can refuse with EINVAL)
 * and a new bio starts with that piece.
 */
function buildBios(pieces: readonly Piece[], limits: QueueLimits): BioBuildResult {
  const bios: Bvec[][] = [];
  let requestBytes = 0;
  let requestSegments = 0;
  let index = 0;
  while (index < pieces.length) {
    const capacity = Math.min(pagesLeft(pieces, index), BIO_MAX_VECS);
    const bio: Bvec[] = [];
    let bioBytes = 0;
    while (index < pieces.length) {
      const piece = pieces[index]!;
      if (!bioAddHwPage(bio, bioBytes, piece, limits, capacity)) break;
      bioBytes += piece.length;
      index++;
    }
    if (bio.length === 0) {
      return {
        ok: false,
        errno: 'EINVAL',
        rule: 'a page does not fit even into an empty bio (bio_add_hw_page refuses it)',
      };
    }
    const previous = bios[bios.length - 1]?.at(-1);
    if (previous !== undefined) {
      const refusal = backMergeRefusal(limits, requestBytes, requestSegments, previous, bio, bioBytes);
      if (refusal !== undefined) return { ok: false, errno: 'EINVAL', rule: refusal };
    }
    bios.push(bio);
    requestBytes += bioBytes;
    requestSegments += bio.length;
  }
  return { ok: true, bios, nrPhysSegments: requestSegments };
}

/** Zero-copy: pins the user pages of `iovecs` (already truncated) and builds the bios (`bio_map_user_iov`). */
export function mapUserPages(
  iovecs: readonly UserIovec[],
  limits: QueueLimits,
  mapping: PageFrameMapping,
  pageSize: number,
): BioBuildResult {
  return buildBios([...userPieces(iovecs, mapping, pageSize)], limits);
}

/**
 * Copy: `bio_copy_user_iov()` takes `length` bytes page by page from the
 * target (offset 0); with sg's buffer, running out of its
 * `elements x elementSize` bytes is ENOMEM.
 */
export function mapCopyPages(
  length: number,
  target: CopyTarget,
  limits: QueueLimits,
  pageSize: number,
): BioBuildResult {
  if (target.kind === 'sg-buffer' && length > target.elements * target.elementSize) {
    return {
      ok: false,
      errno: 'ENOMEM',
      rule: 'the sg buffer has fewer pages than the transfer needs (bio_copy_user_iov with rq_map_data)',
    };
  }
  const pieces: Piece[] = [];
  for (let offset = 0; offset < length; offset += pageSize) {
    pieces.push({
      physicalAddress: copyTargetPhysicalAddress(target, offset, pageSize),
      length: Math.min(pageSize, length - offset),
      requestOffset: offset,
    });
  }
  return buildBios(pieces, limits);
}

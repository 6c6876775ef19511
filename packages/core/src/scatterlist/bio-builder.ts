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
  /**
   * `bv_offset`: offset of the first byte in the bvec's first page (below PAGE_SIZE). The
   * virt-boundary gap tests mask this offset, not the physical address.
   */
  readonly pageOffset: number;
  /** `bv_len`; a merged bvec may span several physically contiguous pages. */
  readonly length: number;
  /** Offset of its first byte in the request's data stream. */
  readonly requestOffset: number;
}

/** A piece of data the mapper offers to `bio_add_hw_page()`: at most one page. */
interface Piece {
  physicalAddress: number;
  pageOffset: number;
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
      /** Which rule refused (see `TRANSFER_RULES`). */
      readonly id: BioRefusalId;
      /** The rule and function that refused, as a sentence. */
      readonly rule: string;
    };

/** The bio-building rules that can refuse a mapping. */
export type BioRefusalId =
  | 'bio-virt-boundary-gap'
  | 'bio-max-hw-sectors'
  | 'bio-max-segments'
  | 'bio-page-does-not-fit'
  | 'sg-buffer-too-small';

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
      yield {
        physicalAddress: userPhysicalAddress(address, mapping, pageSize),
        pageOffset: address % pageSize,
        length,
        requestOffset,
      };
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

/**
 * The pieces of a mapping, produced on demand (a 2 GiB copy has half a million pages, of
 * which the bio limits stop the kernel after a few thousand): `count` pieces, `at(i)`.
 */
interface PieceSource {
  readonly count: number;
  at(index: number): Piece;
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
    if (bvecGapToPrev(limits, last, piece.pageOffset)) return false;
  }
  if (bio.length >= capacity) return false;
  if (bio.length >= limits.maxSegments) return false;
  bio.push({ ...piece });
  return true;
}

/**
 * `bvec_gap_to_prev()` / `__bvec_gap_to_prev()` (block/blk.h): with a virt boundary, a
 * new bvec may only follow one whose `bv_offset + bv_len` is on the boundary, and must
 * itself start (`bv_offset`, the offset in its page) on it. The kernel masks page
 * offsets, not physical addresses: for a boundary wider than a page the two differ.
 */
export function bvecGapToPrev(limits: QueueLimits, previous: Bvec, nextPageOffset: number): boolean {
  const mask = limits.virtBoundaryMask;
  if (mask === 0) return false;
  return (
    maskedBits(nextPageOffset, mask) !== 0 || maskedBits(previous.pageOffset + previous.length, mask) !== 0
  );
}

/**
 * `biovec_phys_mergeable()` (block/blk.h): `next` starts where `previous` ends and the
 * joined range lies in one seg_boundary window (a non-KMSAN, non-Xen kernel).
 */
function biovecPhysMergeable(limits: QueueLimits, previous: Bvec, next: Bvec): boolean {
  if (previous.physicalAddress + previous.length !== next.physicalAddress) return false;
  return sameWindow(previous.physicalAddress, next.physicalAddress + next.length - 1, limits.segBoundaryMask);
}

/**
 * `bio_will_gap()` (block/blk-merge.c) as `req_gap_back_merge()` calls it: only with a
 * virt boundary; refused when the request's first bvec does not start on the boundary
 * (`bv_offset & virt_boundary`: a request that starts mid-boundary never takes a second
 * bio); no gap when the previous bio's last bvec and the next bio's first bvec are
 * physically mergeable; otherwise `__bvec_gap_to_prev()` on their page offsets.
 */
export function bioWillGap(limits: QueueLimits, requestFirst: Bvec, previous: Bvec, next: Bvec): boolean {
  const mask = limits.virtBoundaryMask;
  if (mask === 0) return false;
  if (maskedBits(requestFirst.pageOffset, mask) !== 0) return true;
  if (biovecPhysMergeable(limits, previous, next)) return false;
  return bvecGapToPrev(limits, previous, next.pageOffset);
}

/** Why `blk_rq_append_bio()` refused the next bio. */
interface BackMergeRefusal {
  readonly id: 'bio-virt-boundary-gap' | 'bio-max-hw-sectors' | 'bio-max-segments';
  readonly rule: string;
}

/**
 * `ll_back_merge_fn()` (block/blk-merge.c) for a passthrough request joining bio `next`:
 * refused on a virt-boundary gap (`req_gap_back_merge` -> {@link bioWillGap}), when the
 * sectors would exceed `blk_rq_get_max_sectors()` = max_hw_sectors for passthrough, or
 * when the segments would exceed max_segments (`ll_new_hw_segment`).
 */
function backMergeRefusal(
  limits: QueueLimits,
  requestFirst: Bvec,
  requestBytes: number,
  requestSegments: number,
  previous: Bvec,
  next: readonly Bvec[],
  nextBytes: number,
): BackMergeRefusal | undefined {
  const first = next[0];
  if (first !== undefined && bioWillGap(limits, requestFirst, previous, first)) {
    return {
      id: 'bio-virt-boundary-gap',
      rule:
        maskedBits(requestFirst.pageOffset, limits.virtBoundaryMask) !== 0
          ? `the request's first bvec starts at page offset ${requestFirst.pageOffset}, off the virt boundary, ` +
            'so no second bio may join it (bio_will_gap via req_gap_back_merge in ll_back_merge_fn)'
          : 'the next bio would leave a virt-boundary gap (bio_will_gap via req_gap_back_merge in ll_back_merge_fn)',
    };
  }
  if (Math.floor(requestBytes / 512) + Math.floor(nextBytes / 512) > limits.maxHwSectors) {
    return {
      id: 'bio-max-hw-sectors',
      rule: `the request would exceed max_hw_sectors ${limits.maxHwSectors} (ll_back_merge_fn via blk_rq_append_bio)`,
    };
  }
  if (requestSegments + next.length > limits.maxSegments) {
    return {
      id: 'bio-max-segments',
      rule: `the request would exceed max_segments ${limits.maxSegments} (ll_new_hw_segment via blk_rq_append_bio)`,
    };
  }
  return undefined;
}

/**
 * Feeds `pieces` into bios the way `blk_rq_map_user_iov()` loops over
 * `bio_map_user_iov()` / `bio_copy_user_iov()`: each bio gets
 * min(pages left (`iov_iter_npages`), BIO_MAX_VECS) slots; when a piece does not fit,
 * the bio is appended to the request (`blk_rq_append_bio`, which can refuse with EINVAL)
 * and a new bio starts with that piece.
 */
function buildBios(pieces: PieceSource, limits: QueueLimits): BioBuildResult {
  const bios: Bvec[][] = [];
  let requestBytes = 0;
  let requestSegments = 0;
  let index = 0;
  while (index < pieces.count) {
    const capacity = Math.min(pieces.count - index, BIO_MAX_VECS);
    const bio: Bvec[] = [];
    let bioBytes = 0;
    while (index < pieces.count) {
      const piece = pieces.at(index);
      if (!bioAddHwPage(bio, bioBytes, piece, limits, capacity)) break;
      bioBytes += piece.length;
      index++;
    }
    if (bio.length === 0) {
      return {
        ok: false,
        errno: 'EINVAL',
        id: 'bio-page-does-not-fit',
        rule: 'a page does not fit even into an empty bio (bio_add_hw_page refuses it)',
      };
    }
    const previous = bios[bios.length - 1]?.at(-1);
    const requestFirst = bios[0]?.[0];
    if (previous !== undefined && requestFirst !== undefined) {
      const refusal = backMergeRefusal(
        limits,
        requestFirst,
        requestBytes,
        requestSegments,
        previous,
        bio,
        bioBytes,
      );
      if (refusal !== undefined) return { ok: false, errno: 'EINVAL', ...refusal };
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
  const pieces = [...userPieces(iovecs, mapping, pageSize)];
  return buildBios({ count: pieces.length, at: (i) => pieces[i]! }, limits);
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
      id: 'sg-buffer-too-small',
      rule: 'the sg buffer has fewer pages than the transfer needs (bio_copy_user_iov with rq_map_data)',
    };
  }
  // bio_copy_user_iov adds whole pages at offset 0 (map_data->offset is 0 for sg).
  const pieces: PieceSource = {
    count: Math.ceil(length / pageSize),
    at: (i) => {
      const offset = i * pageSize;
      return {
        physicalAddress: copyTargetPhysicalAddress(target, offset, pageSize),
        pageOffset: 0,
        length: Math.min(pageSize, length - offset),
        requestOffset: offset,
      };
    },
  };
  return buildBios(pieces, limits);
}

/** How the TO_FROM_DEV copy loop of 6.1.80+ ended (it always fails: see {@link remapToFromDevCopy}). */
export interface ToFromDevRemap {
  /** ENOMEM: sg's buffer ran out of pages; EINVAL: `blk_rq_append_bio` refused a bio first. */
  readonly errno: 'ENOMEM' | 'EINVAL';
  /** What stopped the loop. */
  readonly stoppedBy: 'sg-buffer-pages' | BioRefusalId;
  /** `bio_copy_user_iov` calls, counting the one that failed. */
  readonly rounds: number;
  /** Bytes of sg's buffer mapped before the failure (`map_data->offset`). */
  readonly bytesMapped: number;
  /** Segments the request had gathered before the failure (`rq->nr_phys_segments`). */
  readonly segments: number;
  /** What happened, as a sentence naming the kernel functions. */
  readonly rule: string;
}

/**
 * SG_DXFER_TO_FROM_DEV through sg's own buffer on Linux 6.1.80 and later 6.1 stable kernels
 * (block/blk-map.c). `sg_start_req` sets `map_data->from_user`; `bio_copy_user_iov` then
 * copies the caller's bytes in from a copy of the iterator (`iter2`) and never advances the
 * iterator itself, so `blk_rq_map_user_iov`'s `do { ... } while (iov_iter_count(&i))` never
 * sees it drain. Each round maps the whole transfer again from the sg buffer, starting where
 * the last round stopped (`map_data->offset` advances by the bio's size, the page index
 * restarts at `offset / PAGE_SIZE`), and appends the bio to the request. The loop ends only in
 * an error: ENOMEM when the next page would be page `nr_entries << page_order` (checked
 * before the page is added), or EINVAL when `blk_rq_append_bio` -> `ll_back_merge_fn` refuses
 * a bio (max_segments, max_hw_sectors, a virt-boundary gap). Each round's bio has
 * `bio_max_segs(DIV_ROUND_UP(offset_in_page + len, PAGE_SIZE))` slots and takes pages through
 * `bio_add_pc_page` as {@link mapCopyPages} does; bios never merge segments across rounds.
 *
 * `target` is the request's sg buffer: `elements` = its `k_use_sg` (for the reserve, what
 * `sg_link_reserve` linked, not the whole reserve). The copy-in itself is assumed to succeed
 * (the caller's pages are mapped).
 */
export function remapToFromDevCopy(
  length: number,
  target: Extract<CopyTarget, { kind: 'sg-buffer' }>,
  limits: QueueLimits,
  pageSize: number,
): ToFromDevRemap {
  const totalPages = (target.elements * target.elementSize) / pageSize;
  let offset = 0;
  let requestFirst: Bvec | undefined;
  let previous: Bvec | undefined;
  let requestBytes = 0;
  let requestSegments = 0;
  const stop = (
    errno: ToFromDevRemap['errno'],
    stoppedBy: ToFromDevRemap['stoppedBy'],
    rounds: number,
    why: string,
  ): ToFromDevRemap => ({
    errno,
    stoppedBy,
    rounds,
    bytesMapped: offset,
    segments: requestSegments,
    rule:
      `SG_DXFER_TO_FROM_DEV through sg's buffer: bio_copy_user_iov copies the data in without ` +
      `advancing the iterator (6.1.80+), so blk_rq_map_user_iov maps all ${length} bytes again in ` +
      `round after round; round ${rounds}, after ${offset} bytes and ${requestSegments} segments: ${why}`,
  });
  for (let round = 1; ; round++) {
    let inPage = offset % pageSize;
    let page = Math.floor(offset / pageSize);
    let left = length;
    const capacity = Math.min(Math.ceil((inPage + length) / pageSize), BIO_MAX_VECS);
    const bio: Bvec[] = [];
    let bioBytes = 0;
    while (left > 0) {
      if (page === totalPages) {
        return stop(
          'ENOMEM',
          'sg-buffer-pages',
          round,
          `the buffer's ${totalPages} pages are used up (i == nr_entries * nr_pages in bio_copy_user_iov)`,
        );
      }
      const piece: Piece = {
        physicalAddress: copyTargetPhysicalAddress(target, page * pageSize + inPage, pageSize),
        pageOffset: inPage,
        length: Math.min(pageSize - inPage, left),
        requestOffset: requestBytes + bioBytes,
      };
      page++;
      if (!bioAddHwPage(bio, bioBytes, piece, limits, capacity)) break;
      bioBytes += piece.length;
      left -= piece.length;
      inPage = 0;
    }
    if (bio.length === 0) {
      return stop(
        'EINVAL',
        'bio-page-does-not-fit',
        round,
        'a page does not fit even into an empty bio (bio_add_hw_page refuses it)',
      );
    }
    offset += bioBytes;
    if (requestFirst !== undefined && previous !== undefined) {
      const refusal = backMergeRefusal(
        limits,
        requestFirst,
        requestBytes,
        requestSegments,
        previous,
        bio,
        bioBytes,
      );
      if (refusal !== undefined) return stop('EINVAL', refusal.id, round, refusal.rule);
    }
    requestFirst ??= bio[0];
    previous = bio[bio.length - 1];
    requestBytes += bioBytes;
    requestSegments += bio.length;
  }
}

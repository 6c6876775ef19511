/**
 * The request's data as the kernel sees it: iovecs in a modelled user address
 * space, and the mapping from user (virtual) pages to physical page frames.
 * @module
 */
import { InvalidFieldError } from '../errors/index.js';

/** One `struct iovec`: a user address and a length, optionally backed by the bytes it holds. */
export interface UserIovec {
  /** `iov_base`: user virtual address (a non-negative safe integer). */
  readonly address: number;
  /** `iov_len` in bytes. */
  readonly length: number;
  /** The bytes at `address` (length `length`), when the caller wants byte-level checks. */
  readonly data?: Uint8Array;
}

/** `dxfer_direction` of a v3 header (or the direction of a v4 request). */
export type TransferDirection = 'to-device' | 'from-device' | 'to-from-device' | 'none' | 'unknown';

/**
 * How user pages map to physical page frames. Merging two pieces into one
 * segment needs physical contiguity, and pinned user pages are not
 * guaranteed to be contiguous, so this is an explicit assumption of every plan.
 */
export interface PageFrameMapping {
  /** Name shown in plans (`identity`, `scattered`, or the caller's). */
  readonly name: string;
  /** Physical frame number of a virtual page number. */
  readonly toPhysical: (virtualPage: number) => number;
  /** Inverse of `toPhysical` (used to read bytes back through a plan); undefined if not a user page. */
  readonly toVirtual: (physicalPage: number) => number | undefined;
}

/**
 * Physical = virtual: adjacent user pages are physically adjacent, so the
 * block layer merges across page boundaries (best case; e.g. a huge page).
 */
export const identityPageFrames: PageFrameMapping = {
  name: 'identity',
  toPhysical: (page) => page,
  toVirtual: (page) => page,
};

/**
 * Frame = 2 x page + 1: no two user pages are physically adjacent, so every
 * page is its own segment (the common case for freshly pinned 4 KiB pages).
 */
export const scatteredPageFrames: PageFrameMapping = {
  name: 'scattered',
  toPhysical: (page) => 2 * page + 1,
  toVirtual: (frame) => (frame % 2 === 1 ? (frame - 1) / 2 : undefined),
};

/** Sum of iovec lengths. */
export function totalIovecLength(iovecs: readonly UserIovec[]): number {
  let total = 0;
  for (const iov of iovecs) total += iov.length;
  return total;
}

/**
 * Checks that every iovec has a non-negative safe-integer address and length,
 * that address + length stays below 2^53, and that `data`, when present, has
 * exactly `length` bytes. Throws {@link InvalidFieldError} naming `iovecs[i]`.
 */
export function validateIovecs(iovecs: readonly UserIovec[]): void {
  iovecs.forEach((iov, i) => {
    if (!Number.isSafeInteger(iov.address) || iov.address < 0) {
      throw new InvalidFieldError(`iovecs[${i}].address`, 'must be a non-negative safe integer', iov.address);
    }
    if (!Number.isSafeInteger(iov.length) || iov.length < 0) {
      throw new InvalidFieldError(`iovecs[${i}].length`, 'must be a non-negative safe integer', iov.length);
    }
    if (!Number.isSafeInteger(iov.address + iov.length)) {
      throw new InvalidFieldError(`iovecs[${i}]`, 'address + length must stay below 2^53', iov.address);
    }
    if (iov.data !== undefined && iov.data.length !== iov.length) {
      throw new InvalidFieldError(`iovecs[${i}].data`, 'must hold exactly length bytes', iov.data.length);
    }
  });
}

/**
 * `iov_iter_truncate()`: the shorter of the iovec total and `length` wins
 * (the SG_IO HOWTO rule applied by `blk_rq_map_user_io`). Zero-length and
 * cut-off entries are kept as the kernel keeps them (with shortened lengths).
 */
export function truncateIovecs(iovecs: readonly UserIovec[], length: number): UserIovec[] {
  const out: UserIovec[] = [];
  let left = length;
  for (const iov of iovecs) {
    const take = Math.min(iov.length, left);
    out.push(take === iov.length ? iov : { ...iov, length: take, data: iov.data?.subarray(0, take) });
    left -= take;
    if (left === 0) break;
  }
  return out;
}

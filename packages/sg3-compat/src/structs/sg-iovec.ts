/**
 * `struct sg_iovec` (include/scsi/sg.h; the same as `struct iovec`): 16 bytes on LP64, 8 bytes
 * as the 32-bit `struct compat_iovec` that the kernel reads for a compat caller
 * (lib/iov_iter.c `copy_compat_iovec_from_user()`, reached from `blk_rq_map_user_io()` through
 * `import_iovec()` when `in_compat_syscall()`).
 * @module
 */
import type { SgAbi } from '../abi/c-abi.js';
import { StructCodec } from '../abi/struct-codec.js';

/** One iovec: a user address and a length (both pointer-sized, so bigints). */
export interface SgIovec {
  /** `iov_base`. */
  base: bigint;
  /** `iov_len`. */
  length: bigint;
}

/** The members of struct sg_iovec. */
export const SG_IOVEC = new StructCodec<SgIovec>('sg_iovec', [
  { name: 'base', cName: 'iov_base', type: 'ptr' },
  { name: 'length', cName: 'iov_len', type: 'ulong' },
]);

/** Bytes of one iovec on `abi`: 16 (LP64) or 8 (ILP32). */
export function sgIovecSize(abi: SgAbi): number {
  return SG_IOVEC.size(abi);
}

/** Encodes an iovec array in the `abi` layout. */
export function encodeSgIovecs(
  iovecs: readonly SgIovec[],
  abi: SgAbi,
  target?: Uint8Array,
  offset = 0,
): Uint8Array {
  return SG_IOVEC.encodeArray(iovecs, abi, target, offset);
}

/** Decodes `count` iovecs in the `abi` layout: a 32-bit caller's array is read as 8-byte entries, never as 16. */
export function decodeSgIovecs(bytes: Uint8Array, abi: SgAbi, count: number, offset = 0): SgIovec[] {
  return SG_IOVEC.decodeArray(bytes, abi, count, offset);
}

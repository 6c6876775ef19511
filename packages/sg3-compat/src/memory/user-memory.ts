/**
 * A caller's address space, for headers that carry pointers. An sg_io_hdr passed as 88 or 64
 * bytes holds addresses (cmdp, dxferp, sbp, iovec bases) the kernel reaches with
 * copy_from_user()/copy_to_user(); in JavaScript they name buffers the caller placed in an
 * {@link AddressSpace}. An address that names no buffer is what the kernel answers with EFAULT.
 * @module
 */
import { InvalidFieldError } from '@sgv4/core';
import type { SgAbi } from '../abi/c-abi.js';

/** What the translation needs from an address space: bytes at an address, or nothing. */
export interface UserMemory {
  /**
   * A view of the `length` bytes at `address`, or undefined when they are not all inside one
   * mapped buffer (the kernel's copy would fault: EFAULT). Zero bytes are always readable,
   * at any address, as a zero-length copy_from_user() succeeds.
   */
  view(address: bigint, length: number): Uint8Array | undefined;
}

/** Options of an {@link AddressSpace}. */
export interface AddressSpaceOptions {
  /** Pointer width of the program it models: `ilp32` keeps every address below 4 GiB. */
  readonly abi?: SgAbi;
  /** First address handed out (default 0x1000_0000 on ILP32, 0x7f00_0000_0000 on LP64). */
  readonly base?: bigint;
}

interface Region {
  readonly address: bigint;
  readonly bytes: Uint8Array;
}

const PAGE = 4096n;

/**
 * A sparse user address space: buffers mapped at addresses, with at least one unmapped page
 * between any two (so an overrun faults instead of running into the neighbour, as it would
 * past a guard page). Addresses are handed out upwards from `base`, or chosen by the caller.
 */
export class AddressSpace implements UserMemory {
  /** The pointer width it models. */
  readonly abi: SgAbi;
  readonly #regions: Region[] = [];
  #next: bigint;

  /** See {@link AddressSpaceOptions}. */
  constructor(options: AddressSpaceOptions = {}) {
    this.abi = options.abi ?? 'lp64';
    this.#next = options.base ?? (this.abi === 'ilp32' ? 0x1000_0000n : 0x7f00_0000_0000n);
  }

  /** The largest address + 1 on this ABI. */
  get limit(): bigint {
    return this.abi === 'ilp32' ? 1n << 32n : 1n << 64n;
  }

  /**
   * Maps `bytes` (the caller keeps using the same memory: nothing is copied) at `address`,
   * or at the next free page-aligned address, and returns the address. InvalidFieldError
   * when the range is empty, overlaps a mapping or leaves the ABI's address range, or when
   * address 0 (NULL) would be mapped.
   */
  map(bytes: Uint8Array, address?: bigint): bigint {
    if (!(bytes instanceof Uint8Array) || bytes.length === 0) {
      throw new InvalidFieldError('bytes', 'must be a non-empty Uint8Array', bytes);
    }
    const at = address ?? this.#nextFree(BigInt(bytes.length));
    if (typeof at !== 'bigint' || at <= 0n || at + BigInt(bytes.length) > this.limit) {
      throw new InvalidFieldError(
        'address',
        `must be a non-NULL bigint with all ${bytes.length} bytes below 2^${this.abi === 'ilp32' ? 32 : 64} (${this.abi})`,
        address ?? at,
      );
    }
    const end = at + BigInt(bytes.length);
    for (const r of this.#regions) {
      const rEnd = r.address + BigInt(r.bytes.length);
      if (at < rEnd && r.address < end) {
        throw new InvalidFieldError(
          'address',
          `must not overlap the mapping at 0x${r.address.toString(16)}`,
          at,
        );
      }
    }
    this.#regions.push({ address: at, bytes });
    this.#regions.sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
    const after = ((end + PAGE - 1n) / PAGE) * PAGE + PAGE;
    if (after > this.#next) this.#next = after;
    return at;
  }

  /** Unmaps the buffer mapped at exactly `address`; false when there is none. */
  unmap(address: bigint): boolean {
    const i = this.#regions.findIndex((r) => r.address === address);
    if (i < 0) return false;
    this.#regions.splice(i, 1);
    return true;
  }

  /**
   * The address of `view` when it lies inside a mapped buffer (same memory, any offset),
   * else undefined: how a header's pointer to a buffer is computed.
   */
  addressOf(view: Uint8Array): bigint | undefined {
    for (const r of this.#regions) {
      if (r.bytes.buffer !== view.buffer) continue;
      const start = view.byteOffset - r.bytes.byteOffset;
      if (start >= 0 && start + view.length <= r.bytes.length) return r.address + BigInt(start);
    }
    return undefined;
  }

  /** See {@link UserMemory.view}. */
  view(address: bigint, length: number): Uint8Array | undefined {
    if (length === 0) return new Uint8Array(0);
    if (!Number.isSafeInteger(length) || length < 0) return undefined;
    for (const r of this.#regions) {
      if (address < r.address) break;
      const start = address - r.address;
      if (start + BigInt(length) <= BigInt(r.bytes.length)) {
        return r.bytes.subarray(Number(start), Number(start) + length);
      }
    }
    return undefined;
  }

  #nextFree(length: bigint): bigint {
    const at = ((this.#next + PAGE - 1n) / PAGE) * PAGE;
    if (at + length > this.limit) {
      throw new InvalidFieldError(
        'bytes',
        `do not fit the rest of the ${this.abi} address space`,
        Number(length),
      );
    }
    return at;
  }
}

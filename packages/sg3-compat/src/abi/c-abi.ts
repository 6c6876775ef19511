/**
 * The two Linux C ABIs an sg_io_hdr comes in, and the C types the sg structures use.
 *
 * A 64-bit kernel serves 64-bit programs with the native structs and 32-bit programs with
 * the compat ones (drivers/scsi/scsi_ioctl.c `get_sg_io_hdr()` / `put_sg_io_hdr()` convert
 * when `in_compat_syscall()`); a 32-bit program's native struct has the compat layout.
 * @module
 */

/**
 * `lp64`: x86-64 and arm64 programs (long and pointers 8 bytes, aligned to 8).
 * `ilp32`: i386 programs, which a 64-bit kernel serves through its compat structs
 * (int, long and pointers 4 bytes, nothing aligned beyond 4).
 */
export type SgAbi = 'lp64' | 'ilp32';

/** Both ABIs, 64-bit first. */
export const SG_ABIS: readonly SgAbi[] = ['lp64', 'ilp32'];

/**
 * A C scalar type of the sg structures. `s8` is plain `char` (signed on x86), `ptr` a user
 * pointer (`void __user *`; `compat_uptr_t` in a compat struct), `ulong` `size_t` /
 * `unsigned long` (`iov_len`).
 */
export type CType = 's8' | 'u8' | 's16' | 'u16' | 's32' | 'u32' | 'ptr' | 'ulong';

/** sizeof(type) on `abi`. */
export function cTypeSize(type: CType, abi: SgAbi): number {
  switch (type) {
    case 's8':
    case 'u8':
      return 1;
    case 's16':
    case 'u16':
      return 2;
    case 's32':
    case 'u32':
      return 4;
    case 'ptr':
    case 'ulong':
      return abi === 'lp64' ? 8 : 4;
  }
}

/**
 * _Alignof(type) inside a struct on `abi`: the size for every type here (the i386 SysV ABI
 * aligns nothing beyond 4, and none of these types exceeds 4 bytes there).
 */
export function cTypeAlign(type: CType, abi: SgAbi): number {
  return cTypeSize(type, abi);
}

/** True for the pointer-sized types, whose values are bigints (all others are numbers). */
export function isWideType(type: CType): type is 'ptr' | 'ulong' {
  return type === 'ptr' || type === 'ulong';
}

/** The range rule of a C type, for error messages. */
export function cTypeRange(type: CType, abi: SgAbi): { min: number | bigint; max: number | bigint } {
  switch (type) {
    case 's8':
      return { min: -0x80, max: 0x7f };
    case 'u8':
      return { min: 0, max: 0xff };
    case 's16':
      return { min: -0x8000, max: 0x7fff };
    case 'u16':
      return { min: 0, max: 0xffff };
    case 's32':
      return { min: -0x8000_0000, max: 0x7fff_ffff };
    case 'u32':
      return { min: 0, max: 0xffff_ffff };
    case 'ptr':
    case 'ulong':
      return { min: 0n, max: abi === 'lp64' ? 0xffff_ffff_ffff_ffffn : 0xffff_ffffn };
  }
}

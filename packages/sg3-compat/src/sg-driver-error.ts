/**
 * The errno a rule of the sg driver gives, with the rule and the driver function that applies it.
 * @module
 */
import { errnoFromName, OsError } from '@sgv4/core';

/** errno names the sg v3 path returns. */
export type SgErrnoName =
  | 'EACCES'
  | 'EAGAIN'
  | 'EBADF'
  | 'EBUSY'
  | 'EDOM'
  | 'EFAULT'
  | 'EINTR'
  | 'EINVAL'
  | 'EIO'
  | 'EMSGSIZE'
  | 'ENODEV'
  | 'ENOMEM'
  | 'ENOSYS'
  | 'ENOTTY'
  | 'ENXIO'
  | 'EPERM';

/**
 * A call failed the way the sg driver (or the kernel code it calls) fails it: an
 * {@link OsError} with the errno a program would see, plus the rule and the kernel function
 * (drivers/scsi/sg.c unless the function names another file) it comes from.
 *
 * Message: `ioctl(SG_IO): EBUSY (device or resource busy): SG_FLAG_MMAP_IO while the reserve is in use [sg_new_write]`.
 */
export class SgDriverError extends OsError {
  /** The rule, in a sentence. */
  readonly rule: string;
  /** The kernel function applying it, e.g. `sg_new_write`. */
  readonly kernelFunction: string;

  /** `code` is the errno's name; `syscall` the failing call, e.g. `write` or `ioctl(SG_IO)`. */
  constructor(code: SgErrnoName, syscall: string, rule: string, kernelFunction: string) {
    const errno = errnoFromName(code);
    if (errno === undefined) throw new Error(`unknown errno name ${code}`);
    super(errno, code, syscall);
    this.message = `${this.message}: ${rule} [${kernelFunction}]`;
    this.rule = rule;
    this.kernelFunction = kernelFunction;
  }
}

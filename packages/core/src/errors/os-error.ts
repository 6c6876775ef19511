/**
 * A system call failed with an errno.
 * @module
 */

import { errnoDescription, errnoFromName, errnoName } from './errno-names.js';
import { exitStatusForErrno } from './exit-status.js';
import { Sgv4Error, type Sgv4ErrorOptions } from './sgv4-error.js';

/**
 * A system call (open, ioctl SG_IO, read, write, mmap...) failed. Result category
 * OS_ERR. The exit status is sg3_utils' `sg_convert_errno()`: 50 + errno for errno 1..46.
 *
 * Message: `open /dev/sg0: ENOENT (no such file or directory)`.
 */
export class OsError extends Sgv4Error {
  /** Positive errno, e.g. 2. */
  readonly errno: number;
  /** Symbolic name, e.g. `ENOENT`. */
  readonly code: string;
  /** The failing call, e.g. `open` or `ioctl(SG_IO)`. */
  readonly syscall: string;
  /** The path involved, when there is one. */
  readonly path?: string;

  /** Prefer {@link OsError.fromErrno}; the constructor takes the errno and its name as given. */
  constructor(errno: number, code: string, syscall: string, path?: string, options: Sgv4ErrorOptions = {}) {
    const description = errnoDescription(errno);
    const what = path === undefined ? syscall : `${syscall} ${path}`;
    super(
      `${what}: ${code} (${description.charAt(0).toLowerCase()}${description.slice(1)})`,
      exitStatusForErrno(errno),
      options,
    );
    this.errno = Math.abs(errno);
    this.code = code;
    this.syscall = syscall;
    if (path !== undefined) this.path = path;
  }

  /** An OsError for a (positive or negative, as the kernel returns it) errno. */
  static fromErrno(errno: number, syscall: string, path?: string): OsError {
    return new OsError(Math.abs(errno), errnoName(errno), syscall, path);
  }

  /**
   * An OsError from a Node.js system error (`err.errno` is negative, `err.code` the name),
   * so I/O code can rethrow node:fs failures in this family. Returns undefined when `error`
   * carries no errno.
   */
  static fromNodeError(error: unknown, syscall?: string): OsError | undefined {
    if (typeof error !== 'object' || error === null) return undefined;
    const e = error as { errno?: unknown; code?: unknown; syscall?: unknown; path?: unknown };
    const code = typeof e.code === 'string' ? e.code : undefined;
    const errno = typeof e.errno === 'number' ? Math.abs(e.errno) : code ? errnoFromName(code) : undefined;
    if (errno === undefined) return undefined;
    const call = syscall ?? (typeof e.syscall === 'string' ? e.syscall : 'syscall');
    const path = typeof e.path === 'string' ? e.path : undefined;
    return new OsError(errno, code ?? errnoName(errno), call, path, { cause: error });
  }
}

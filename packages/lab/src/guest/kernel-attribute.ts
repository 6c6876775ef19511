/**
 * Reading and writing one sysfs or procfs attribute, with failures as a {@link LabError}
 * that names the file and the errno (its exit status is sg3_utils' 50 + errno).
 * @module
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { exitStatusForErrno } from '@sgv4/core';
import { LabError } from '../errors.js';

/** A kernel attribute file refused a read or write. */
export class LabAttributeError extends LabError {
  /** The attribute file. */
  readonly path: string;
  /** The positive errno (EBUSY 16, EINVAL 22, EACCES 13, ENOENT 2, ...). */
  readonly errno: number;

  /** `action` is `read` or `write <value>`. */
  constructor(path: string, action: string, errno: number, code: string | undefined) {
    super(`${action} ${path} failed: ${code ?? `errno ${errno}`}`, exitStatusForErrno(errno));
    this.path = path;
    this.errno = errno;
  }
}

function asAttributeError(error: unknown, path: string, action: string): unknown {
  const e = error as NodeJS.ErrnoException;
  if (typeof e?.errno === 'number') return new LabAttributeError(path, action, Math.abs(e.errno), e.code);
  return error;
}

/** The attribute's content without the trailing newline. */
export function readKernelAttribute(path: string): string {
  try {
    return readFileSync(path, 'utf8').replace(/\n$/, '');
  } catch (error) {
    throw asAttributeError(error, path, 'read');
  }
}

/** Writes `value` in one write(2), as `echo value > path` does; the kernel's store method judges it. */
export function writeKernelAttribute(path: string, value: string): void {
  try {
    writeFileSync(path, value);
  } catch (error) {
    throw asAttributeError(error, path, `write '${value}' to`);
  }
}

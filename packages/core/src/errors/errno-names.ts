/**
 * Lookups over the Linux errno table: number to name and strerror text, and back.
 * @module
 */
import { ERRNO_TABLE } from './errno-table.gen.js';

const BY_NUMBER: ReadonlyMap<number, readonly [string, string]> = new Map(
  ERRNO_TABLE.map(([errno, name, text]) => [errno, [name, text]] as const),
);
const BY_NAME: ReadonlyMap<string, number> = new Map(ERRNO_TABLE.map(([errno, name]) => [name, errno]));

/**
 * Kernel-internal errnos that can reach user space through a pass-through path but are
 * not in glibc's table (include/linux/errno.h): ERESTARTSYS leaks when a signal
 * interrupts SG_IO (drivers/scsi/sg.c `sg_ioctl_common`: the interruptible wait's -ERESTARTSYS).
 */
const KERNEL_ONLY: ReadonlyMap<number, readonly [string, string]> = new Map([
  [512, ['ERESTARTSYS', 'Interrupted system call, restart']],
  [513, ['ERESTARTNOINTR', 'Restart system call']],
  [516, ['ERESTART_RESTARTBLOCK', 'Restart with a restart block']],
  [524, ['ENOTSUPP', 'Operation is not supported']],
]);

/** The symbolic name of an errno (`ENOENT` for 2); `E<number>` when unknown. Sign is ignored. */
export function errnoName(errno: number): string {
  const e = Math.abs(errno);
  return (BY_NUMBER.get(e) ?? KERNEL_ONLY.get(e))?.[0] ?? `E${e}`;
}

/** The strerror() text of an errno (`No such file or directory` for 2). Sign is ignored. */
export function errnoDescription(errno: number): string {
  const e = Math.abs(errno);
  return (BY_NUMBER.get(e) ?? KERNEL_ONLY.get(e))?.[1] ?? `Unknown error ${e}`;
}

/** The number of a symbolic errno name (`2` for `ENOENT`), or undefined when unknown. */
export function errnoFromName(name: string): number | undefined {
  return BY_NAME.get(name);
}

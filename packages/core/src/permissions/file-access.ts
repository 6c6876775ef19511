/**
 * `sg_check_file_access()` (Linux 6.1 drivers/scsi/sg.c): sg's read() and write() refuse a
 * caller whose credentials are not the ones the fd was opened with.
 * @module
 */

/** An sg file operation. */
export type SgFileOperation = 'read' | 'write' | 'ioctl';

/**
 * True when Linux 6.1 refuses `operation` with EPERM: `sg_read()` and `sg_write()` first
 * call `sg_check_file_access()`, which compares the fd's `f_cred` with the caller's
 * `current_real_cred()` (any setuid, setgid or capability change since open makes new
 * credentials); `sg_ioctl()` (SG_IO included) does not check.
 */
export function sgFileAccessRefused(operation: SgFileOperation, credentialsChanged: boolean): boolean {
  return credentialsChanged && operation !== 'ioctl';
}

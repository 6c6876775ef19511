/**
 * The sg driver's run-time settings. Debian's 6.1 kernel is built without
 * CONFIG_SCSI_PROC_FS, so `/proc/scsi/sg/` does not exist there; these helpers use it when
 * present and otherwise the module parameters in `/sys/module/sg/parameters/`
 * (drivers/scsi/sg.c `module_param_named(allow_dio, sg_allow_dio, int, S_IRUGO | S_IWUSR)`).
 * @module
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { ExitStatus } from '@sgv4/core';
import { LabConfigError, LabError } from '../errors.js';
import { readKernelAttribute, writeKernelAttribute } from './kernel-attribute.js';

/** `/proc/scsi/sg` (only with CONFIG_SCSI_PROC_FS). */
export const SG_PROC_DIR = '/proc/scsi/sg';
/** The sg module's parameters in sysfs. */
export const SG_MODULE_PARAMS_DIR = '/sys/module/sg/parameters';

/**
 * Sets `allow_dio`: with 1, SG_FLAG_DIRECT_IO really maps user pages (sg.c `sg_start_req`
 * tries direct IO only when `sg_allow_dio` is set); with 0 sg silently uses indirect IO.
 * Both files write the same `sg_allow_dio` variable, read at each request.
 */
export function setSgAllowDio(on: boolean): void {
  const proc = `${SG_PROC_DIR}/allow_dio`;
  writeKernelAttribute(existsSync(proc) ? proc : `${SG_MODULE_PARAMS_DIR}/allow_dio`, on ? '1' : '0');
}

/** The current `allow_dio` (true when 1). */
export function getSgAllowDio(): boolean {
  const proc = `${SG_PROC_DIR}/allow_dio`;
  return readKernelAttribute(existsSync(proc) ? proc : `${SG_MODULE_PARAMS_DIR}/allow_dio`) === '1';
}

/**
 * Sets the reserved buffer size that file descriptors opened from now on get (sg.c
 * `sg_big_buff`, used by `sg_add_sfp`). With procfs this writes
 * `/proc/scsi/sg/def_reserved_size` (`sg_proc_write_dressz`: 0..1048576, else ERANGE).
 * Without it, `sg_big_buff` is only set from the `def_reserved_size` module parameter in
 * `init_sg`, so the lab reloads the sg module (`modprobe -r sg`, then `modprobe sg
 * def_reserved_size=N allow_dio=<current>`): every sg file descriptor must be closed first
 * (else `modprobe -r` fails with the module in use), and the nodes are recreated 0600 root.
 * The lab applies procfs's 0..1048576 range in both cases.
 */
export function setSgDefReservedSize(bytes: number): void {
  if (!Number.isSafeInteger(bytes) || bytes < 0 || bytes > 1048576) {
    throw new LabConfigError(
      'def_reserved_size',
      'an integer in 0..1048576 (sg.c sg_proc_write_dressz)',
      bytes,
    );
  }
  const proc = `${SG_PROC_DIR}/def_reserved_size`;
  if (existsSync(proc)) {
    writeKernelAttribute(proc, String(bytes));
    return;
  }
  const allowDio = getSgAllowDio() ? 1 : 0;
  const before = sgNodeCount();
  try {
    execFileSync('modprobe', ['-r', 'sg'], { stdio: ['ignore', 'ignore', 'pipe'] });
    execFileSync('modprobe', ['sg', `def_reserved_size=${bytes}`, `allow_dio=${allowDio}`], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString('utf8').trim() ?? '';
    throw new LabError(`reloading sg with def_reserved_size=${bytes} failed: ${stderr}`, ExitStatus.OTHER);
  }
  // devtmpfs creates the nodes as sg_add_device registers them; wait until all are back.
  const deadline = Date.now() + 5000;
  while (sgNodeCount() < before && Date.now() < deadline) {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
  }
}

/** The sg module's current `def_reserved_size` parameter (procfs value when present). */
export function getSgDefReservedSize(): number {
  const proc = `${SG_PROC_DIR}/def_reserved_size`;
  return Number(readKernelAttribute(existsSync(proc) ? proc : `${SG_MODULE_PARAMS_DIR}/def_reserved_size`));
}

function sgNodeCount(): number {
  try {
    return readdirSync('/dev').filter((n) => /^sg\d+$/.test(n)).length;
  } catch {
    return 0;
  }
}

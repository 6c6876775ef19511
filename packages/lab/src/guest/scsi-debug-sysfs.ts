/**
 * Changing scsi_debug at run time through its driver attributes in
 * `/sys/bus/pseudo/drivers/scsi_debug/` (drivers/scsi/scsi_debug.c `sdebug_drv_attrs`):
 * the fault-injection knobs (`opts`, `every_nth`), latency (`delay`, `ndelay`: EBUSY while
 * commands are queued), `max_queue` and more. Only parameters that have such an attribute
 * can change at run time; the others are load-time only (`scsiDebug` in the lab's guest options).
 * @module
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { LabConfigError } from '../errors.js';
import { readKernelAttribute, writeKernelAttribute } from './kernel-attribute.js';

/** The scsi_debug driver's sysfs directory. */
export const SCSI_DEBUG_SYSFS_DIR = '/sys/bus/pseudo/drivers/scsi_debug';

function attributePath(name: string): string {
  if (!/^[a-z0-9_]+$/.test(name)) {
    throw new LabConfigError('scsi_debug attribute', 'a lower-case attribute name', name);
  }
  const path = join(SCSI_DEBUG_SYSFS_DIR, name);
  if (!existsSync(path)) {
    throw new LabConfigError(
      `scsi_debug attribute ${name}`,
      `a file in ${SCSI_DEBUG_SYSFS_DIR} (load-time-only parameters go in the lab's scsiDebug settings)`,
      name,
    );
  }
  return path;
}

/** Writes scsi_debug's run-time attribute `name` (e.g. `setScsiDebugParam('opts', 0x10)`). */
export function setScsiDebugParam(name: string, value: string | number): void {
  writeKernelAttribute(attributePath(name), String(value));
}

/** Reads scsi_debug's run-time attribute `name`, trimmed of its newline. */
export function getScsiDebugParam(name: string): string {
  return readKernelAttribute(attributePath(name));
}

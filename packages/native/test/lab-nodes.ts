/**
 * The lab guest's scsi_debug nodes (one host, one LUN: /dev/sg0, /dev/bsg/0:0:0:0,
 * /dev/sda) and its runtime module parameters.
 */
import { readFileSync, writeFileSync } from 'node:fs';

/** Device nodes of the lab's scsi_debug disk. */
export const labNodes = { sg: '/dev/sg0', bsg: '/dev/bsg/0:0:0:0', block: '/dev/sda' } as const;

const SCSI_DEBUG = '/sys/bus/pseudo/drivers/scsi_debug';

/** Sets a scsi_debug parameter at run time (e.g. `delay` in jiffies; EBUSY while commands are queued). */
export function setScsiDebugParam(name: string, value: number): void {
  writeFileSync(`${SCSI_DEBUG}/${name}`, `${value}\n`);
}

/** Reads a scsi_debug parameter. */
export function scsiDebugParam(name: string): number {
  return Number.parseInt(readFileSync(`${SCSI_DEBUG}/${name}`, 'utf8'), 10);
}

/** /sys/block/sda/queue/<name> as a number. */
export function queueLimit(name: string): number {
  return Number.parseInt(readFileSync(`/sys/block/sda/queue/${name}`, 'utf8'), 10);
}

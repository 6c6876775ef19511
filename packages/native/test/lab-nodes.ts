/**
 * The lab guest's scsi_debug nodes (one host, one LUN: /dev/sg0, /dev/bsg/0:0:0:0,
 * /dev/sda) and its runtime module parameters.
 */
import { readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';

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

/** scsi_debug's response latency: `delay` in jiffies, or `ndelay` in nanoseconds when non-zero. */
export interface Latency {
  delay: number;
  ndelay: number;
}

/** The current latency setting. */
export function latency(): Latency {
  return { delay: scsiDebugParam('delay'), ndelay: scsiDebugParam('ndelay') };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Writes one parameter, retrying while scsi_debug still has commands queued (EBUSY, delay_store/ndelay_store). */
async function setWhenIdle(name: string, value: number): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      setScsiDebugParam(name, value);
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EBUSY' || attempt >= 200) throw error;
      await sleep(50);
    }
  }
}

/**
 * Sets the latency (scsi_debug 6.1: writing `delay` also zeroes `ndelay`; a non-zero `ndelay`
 * overrides `delay`). Waits for queued commands to finish first.
 */
export async function setLatency(target: Partial<Latency>): Promise<void> {
  await setWhenIdle('delay', target.delay ?? 0);
  if ((target.ndelay ?? 0) > 0) await setWhenIdle('ndelay', target.ndelay ?? 0);
}

/** H:C:T:L of the LUN behind an sg node (the sysfs device link's name). */
export function hctlOfSg(sgNode: string): string {
  return basename(realpathSync(`/sys/class/scsi_generic/${basename(sgNode)}/device`));
}

/** Commands the SCSI midlayer dispatched to a LUN (iorequest_cnt, hex, scsi_dispatch_cmd in scsi_lib.c). */
export function dispatchedCommands(hctl: string): number {
  return Number.parseInt(
    readFileSync(`/sys/class/scsi_device/${hctl}/device/iorequest_cnt`, 'utf8').trim(),
    16,
  );
}

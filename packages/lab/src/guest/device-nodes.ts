/**
 * The scsi_debug device nodes present in the guest, found through sysfs
 * (`/sys/class/scsi_generic/sg<N>/device` is the SCSI device; its `block/` lists the
 * disk; `/dev/bsg/<H:C:T:L>` is named after the device, block/bsg.c `bsg_register_queue`).
 * @module
 */
import { existsSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { basename, join } from 'node:path';

/** Device nodes of the scsi_debug devices, each list sorted by sg number. */
export interface LabDeviceNodes {
  /** `/dev/sg<N>`. */
  readonly sg: string[];
  /** `/dev/bsg/<H:C:T:L>`. */
  readonly bsg: string[];
  /** `/dev/sd<x>` for the disks (sd_mod attached). */
  readonly block: string[];
}

const SG_CLASS = '/sys/class/scsi_generic';

function readTrimmed(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return '';
  }
}

/** The nodes of every SCSI device whose INQUIRY model is `scsi_debug`. */
export function labDeviceNodes(): LabDeviceNodes {
  const nodes: LabDeviceNodes = { sg: [], bsg: [], block: [] };
  let names: string[];
  try {
    names = readdirSync(SG_CLASS);
  } catch {
    return nodes;
  }
  const sgNumber = (name: string) => Number.parseInt(name.slice(2), 10);
  for (const name of names.filter((n) => /^sg\d+$/.test(n)).sort((a, b) => sgNumber(a) - sgNumber(b))) {
    const device = join(SG_CLASS, name, 'device');
    if (readTrimmed(join(device, 'model')) !== 'scsi_debug') continue;
    nodes.sg.push(`/dev/${name}`);
    const hctl = basename(realpathSync(device));
    if (existsSync(`/dev/bsg/${hctl}`)) nodes.bsg.push(`/dev/bsg/${hctl}`);
    try {
      for (const disk of readdirSync(join(device, 'block'))) nodes.block.push(`/dev/${disk}`);
    } catch {
      // not a disk, or sd_mod not attached
    }
  }
  return nodes;
}

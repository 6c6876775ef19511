/**
 * The device the conformance cases run on: the first scsi_debug disk in the guest, with
 * its sg, bsg and block nodes and the queue limits sysfs reports.
 * @module
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseSysfsQueueLimits, queueLimitsPreset, SYSFS_QUEUE_LIMIT_FILES } from '@sgv4/core';
import type { ConformanceDevice } from './conformance-case.js';

/**
 * The first sg node backed by a scsi_debug disk, with its bsg node, block device and
 * queue limits. seg_boundary_mask is not in sysfs: scsi_debug with clustering=0 (the
 * default) sets dma_boundary PAGE_SIZE - 1 (drivers/scsi/scsi_debug.c `sdebug_driver_probe`).
 */
export function labConformanceDevice(): ConformanceDevice {
  const base = '/sys/class/scsi_generic';
  for (const name of readdirSync(base).sort()) {
    const dev = join(base, name, 'device');
    const model = existsSync(join(dev, 'model')) ? readFileSync(join(dev, 'model'), 'utf8').trim() : '';
    const blockDir = join(dev, 'block');
    if (model !== 'scsi_debug' || !existsSync(blockDir)) continue;
    const [disk] = readdirSync(blockDir);
    const [bsgName] = existsSync(join(dev, 'bsg')) ? readdirSync(join(dev, 'bsg')) : [];
    if (disk === undefined || bsgName === undefined) continue;
    const queueDir = join(blockDir, disk, 'queue');
    const files: Record<string, string> = {};
    for (const file of SYSFS_QUEUE_LIMIT_FILES) {
      const path = join(queueDir, file);
      if (existsSync(path)) files[file] = readFileSync(path, 'utf8');
    }
    return {
      sg: `/dev/${name}`,
      bsg: `/dev/bsg/${bsgName}`,
      disk: `/dev/${disk}`,
      limits: parseSysfsQueueLimits(files, { segBoundaryMask: 4095 }).limits,
      deviceType: Number(readFileSync(join(dev, 'type'), 'utf8').trim()),
    };
  }
  throw new Error('no scsi_debug disk with sg and bsg nodes in this guest');
}

/**
 * The lab's device as the model expects it (the `scsi-debug` limits preset, the default
 * node names): what the host plans cases with, and what unit tests check the plans against.
 */
export function expectedLabDevice(): ConformanceDevice {
  return {
    sg: '/dev/sg0',
    bsg: '/dev/bsg/0:0:0:0',
    disk: '/dev/sda',
    limits: queueLimitsPreset('scsi-debug').limits,
    deviceType: 0,
  };
}

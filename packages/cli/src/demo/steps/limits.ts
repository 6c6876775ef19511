/**
 * Tour step: queue limits. Derives every preset through the Linux 6.1 setter
 * and SCSI-host code, prints the fields that shape a transfer, and, when this
 * machine has a SCSI disk, parses its sysfs queue directory too.
 */
import { existsSync, readdirSync } from 'node:fs';
import { QUEUE_LIMITS_PRESET_NAMES, queueLimitsPreset, queueMaxBytes } from '@sgv4/core';
import { loadSysfsLimits } from '../../commands/limits.js';
import { formatTable, printLine } from '../../framework/output.js';
import type { TourStep } from '../tour-step.js';

export const limitsStep: TourStep = {
  id: 'limits',
  title: 'Queue limits (what the hardware can do)',
  run(io) {
    const rows = QUEUE_LIMITS_PRESET_NAMES.map((name) => {
      const l = queueLimitsPreset(name).limits;
      return [
        name,
        String(l.maxSegments),
        String(l.maxSegmentSize),
        `0x${l.segBoundaryMask.toString(16)}`,
        `0x${l.virtBoundaryMask.toString(16)}`,
        String(l.dmaAlignment),
        String(l.maxHwSectors),
        String(queueMaxBytes(l)),
      ];
    });
    const header = [
      'preset',
      'max_segs',
      'max_seg_size',
      'boundary',
      'virt_bnd',
      'dma_align',
      'max_hw_sect',
      'max_bytes',
    ];
    for (const line of formatTable([header, ...rows])) printLine(io, line);
    const disks = existsSync('/sys/block')
      ? readdirSync('/sys/block').filter((d) => /^sd[a-z]+$/.test(d))
      : [];
    const disk = disks[0];
    if (disk === undefined) {
      printLine(io, 'No SCSI disk here, so no sysfs queue to read (sgv4 limits --sysfs DIR reads one).');
      return;
    }
    const loaded = loadSysfsLimits(`/sys/block/${disk}/queue`);
    printLine(
      io,
      `/sys/block/${disk}/queue: max_segments ${loaded.limits.maxSegments}, dma_alignment ${loaded.limits.dmaAlignment}, ` +
        `max_sectors ${loaded.limits.maxSectors}, assumed: ${loaded.assumed.map((a) => a.field).join(', ')}`,
    );
  },
};

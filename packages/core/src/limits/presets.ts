/**
 * Named queue-limit presets: the kernel default, scsi_debug as the lab sees it,
 * and three typical HBA shapes. Each is derived through the same setter and
 * SCSI-host code a real queue goes through, not typed in.
 * @module
 */
import { LINUX_UINT_MAX, SG_ALL } from './constants.js';
import {
  defaultQueueLimits,
  type QueueLimits,
  setDmaAlignment,
  setMaxHwSectors,
  setMaxSegments,
  setVirtBoundary,
} from './queue-limits.js';
import { applySdMaxSectors, scsiQueueLimits } from './scsi-host.js';

/** Names accepted by {@link queueLimitsPreset}. */
export const QUEUE_LIMITS_PRESET_NAMES = [
  'kernel-default',
  'scsi-debug',
  'legacy-sg-all',
  'unlimited-hba',
  'nvme-like',
] as const;

/** One of {@link QUEUE_LIMITS_PRESET_NAMES}. */
export type QueueLimitsPresetName = (typeof QUEUE_LIMITS_PRESET_NAMES)[number];

/** A preset with the reason for each of its values. */
export interface QueueLimitsPreset {
  /** Preset name. */
  readonly name: QueueLimitsPresetName;
  /** Where the values come from. */
  readonly description: string;
  /** The limits. */
  readonly limits: QueueLimits;
}

function build(name: QueueLimitsPresetName): QueueLimitsPreset {
  switch (name) {
    case 'kernel-default':
      return {
        name,
        description:
          'blk_set_default_limits() (block/blk-settings.c): what a queue has before a driver sets it',
        limits: defaultQueueLimits(),
      };
    case 'scsi-debug':
      return {
        name,
        description:
          'scsi_debug 0191 (clustering=0) behind sd: template sg_tablesize SG_MAX_SEGMENTS, max_sectors and ' +
          'max_segment_size -1U, dma_boundary PAGE_SIZE-1; sd sets max_sectors to the 1024-block optimal ' +
          'transfer length (sysfs: max_sectors_kb 512, max_hw_sectors_kb 2147483647)',
        limits: applySdMaxSectors(
          scsiQueueLimits({
            sgTablesize: 2048,
            maxSectors: LINUX_UINT_MAX,
            maxSegmentSize: LINUX_UINT_MAX,
            dmaBoundary: 4095,
          }),
          1024,
          1024 * 512,
        ),
      };
    case 'legacy-sg-all':
      return {
        name,
        description:
          'an older SCSI HBA: sg_tablesize SG_ALL (128), template max_sectors 0 (-> 1024), default ' +
          'dma_boundary and max_segment_size',
        limits: scsiQueueLimits({ sgTablesize: SG_ALL }),
      };
    case 'unlimited-hba':
      return {
        name,
        description:
          'an HBA without real segment limits: sg_tablesize 0xFFFF (capped to SG_MAX_SEGMENTS 2048), ' +
          'max_sectors and max_segment_size -1U, default dma_boundary 0xFFFFFFFF',
        limits: scsiQueueLimits({
          sgTablesize: 0xffff,
          maxSectors: LINUX_UINT_MAX,
          maxSegmentSize: LINUX_UINT_MAX,
        }),
      };
    case 'nvme-like':
      return {
        name,
        description:
          'an NVMe-PCI-like queue (nvme_set_queue_limits, 6.1 [U: values from memory]): max_hw_sectors 8192 ' +
          '(4 MiB), max_segments 127, virt_boundary_mask 4095 (forces max_segment_size UINT_MAX), dma_alignment 3',
        limits: setDmaAlignment(
          setVirtBoundary(setMaxSegments(setMaxHwSectors(defaultQueueLimits(), 8192), 127), 4095),
          3,
        ),
      };
  }
}

/** The named preset (see {@link QUEUE_LIMITS_PRESET_NAMES}). */
export function queueLimitsPreset(name: QueueLimitsPresetName): QueueLimitsPreset {
  return build(name);
}

/** True when `name` is a preset name. */
export function isQueueLimitsPresetName(name: string): name is QueueLimitsPresetName {
  return (QUEUE_LIMITS_PRESET_NAMES as readonly string[]).includes(name);
}

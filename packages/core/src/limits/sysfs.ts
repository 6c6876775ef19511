/**
 * Queue limits from a sysfs queue directory (`/sys/block/<disk>/queue/*`), given
 * as text so it can be tested without a device. Names and units are those of
 * block/blk-sysfs.c in 6.1.
 * @module
 */
import { InvalidFieldError } from '../errors/index.js';
import { defaultQueueLimits, type QueueLimits } from './queue-limits.js';

/** A limit that sysfs does not expose, with the value assumed for it. */
export interface AssumedLimit {
  /** The {@link QueueLimits} field. */
  readonly field: keyof QueueLimits;
  /** The value used. */
  readonly value: number | boolean;
}

/** Result of {@link parseSysfsQueueLimits}. */
export interface SysfsQueueLimits {
  /** The limits read (and assumed). */
  readonly limits: QueueLimits;
  /** Fields sysfs has no file for (or whose file was absent), and what was assumed. */
  readonly assumed: readonly AssumedLimit[];
}

type NumericField = Exclude<keyof QueueLimits, 'bounceHighmem'>;

/**
 * sysfs file -> field and multiplier (`max_*_sectors_kb` files show sectors >> 1,
 * so the sector count read back is `kb * 2`; an odd count such as the default
 * 255 shows as 127 and reads back as 254).
 */
const SYSFS_FILES: readonly { file: string; field: NumericField; scale: number }[] = [
  { file: 'max_segments', field: 'maxSegments', scale: 1 },
  { file: 'max_segment_size', field: 'maxSegmentSize', scale: 1 },
  { file: 'max_hw_sectors_kb', field: 'maxHwSectors', scale: 2 },
  { file: 'max_sectors_kb', field: 'maxSectors', scale: 2 },
  { file: 'logical_block_size', field: 'logicalBlockSize', scale: 1 },
  { file: 'physical_block_size', field: 'physicalBlockSize', scale: 1 },
  { file: 'minimum_io_size', field: 'ioMin', scale: 1 },
  { file: 'optimal_io_size', field: 'ioOpt', scale: 1 },
  { file: 'dma_alignment', field: 'dmaAlignment', scale: 1 },
  { file: 'virt_boundary_mask', field: 'virtBoundaryMask', scale: 1 },
  { file: 'max_discard_segments', field: 'maxDiscardSegments', scale: 1 },
];

/** The sysfs file names {@link parseSysfsQueueLimits} reads. */
export const SYSFS_QUEUE_LIMIT_FILES: readonly string[] = SYSFS_FILES.map((f) => f.file);

/**
 * Fields 6.1 sysfs does not show: seg_boundary_mask, dma_pad_mask,
 * max_dev_sectors and the bounce flag. They come from `assume` (default:
 * the kernel defaults, seg_boundary_mask 0xFFFFFFFF, dma_pad_mask 0).
 */
const HIDDEN_FIELDS: readonly (keyof QueueLimits)[] = [
  'segBoundaryMask',
  'dmaPadMask',
  'maxDevSectors',
  'bounceHighmem',
];

/**
 * Parses the text of a sysfs queue directory: `files` maps a file name to its
 * content (trailing newline allowed). Values must be unsigned decimal
 * integers; an unreadable value is an {@link InvalidFieldError} naming the
 * file. Missing files and fields sysfs never shows take their value from
 * `assume` (or the kernel default) and are listed in `assumed`.
 */
export function parseSysfsQueueLimits(
  files: Readonly<Record<string, string>>,
  assume: Partial<QueueLimits> = {},
): SysfsQueueLimits {
  const base: QueueLimits = { ...defaultQueueLimits(), ...assume };
  const values: { -readonly [K in keyof QueueLimits]: QueueLimits[K] } = { ...base };
  const assumed: AssumedLimit[] = [];
  for (const { file, field, scale } of SYSFS_FILES) {
    const text = files[file];
    if (text === undefined) {
      assumed.push({ field, value: base[field] });
      continue;
    }
    const trimmed = text.trim();
    if (!/^\d+$/.test(trimmed)) {
      throw new InvalidFieldError(`sysfs queue/${file}`, 'must be an unsigned decimal integer', text);
    }
    const value = Number(trimmed) * scale;
    if (!Number.isSafeInteger(value)) {
      throw new InvalidFieldError(`sysfs queue/${file}`, 'must fit in a safe integer', text);
    }
    values[field] = value;
  }
  for (const field of HIDDEN_FIELDS) assumed.push({ field, value: base[field] });
  return { limits: values, assumed };
}

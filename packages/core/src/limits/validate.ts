/**
 * Validation of a {@link QueueLimits} value: the combinations the kernel's
 * setters can never produce, reported as {@link InvalidFieldError}s naming the
 * field and the rule.
 * @module
 */
import { InvalidFieldError } from '../errors/index.js';
import { LINUX_UINT_MAX, X86_64_PAGE_SIZE } from './constants.js';
import { isLowBitMask } from './mask.js';
import type { QueueLimits } from './queue-limits.js';

function isPowerOfTwo(n: number): boolean {
  return Number.isSafeInteger(n) && n > 0 && isLowBitMask(n - 1);
}

/**
 * Every rule broken by `limits`, in field order (empty when valid):
 * - all numbers are non-negative safe integers;
 * - max_segments in 1..65535 (`unsigned short`; `blk_queue_max_segments` turns 0 into 1);
 * - max_segment_size in PAGE_SIZE..UINT_MAX (setter floor);
 * - seg_boundary_mask, virt_boundary_mask, dma_alignment, dma_pad_mask are 2^k - 1 masks;
 * - seg_boundary_mask >= PAGE_SIZE - 1 (setter floor);
 * - a virt boundary requires max_segment_size = UINT_MAX (`blk_queue_virt_boundary`) and is < PAGE_SIZE;
 * - dma_alignment < PAGE_SIZE (`blk_queue_update_dma_alignment` BUG_ON);
 * - logical_block_size a power of two in 512..PAGE_SIZE (`blk_validate_block_size`);
 * - physical_block_size a power of two >= logical; io_min >= physical;
 * - max_hw_sectors >= PAGE_SIZE / 512 and a multiple of the logical block size in sectors;
 * - 0 < max_sectors <= max_hw_sectors.
 */
export function queueLimitsViolations(limits: QueueLimits, pageSize = X86_64_PAGE_SIZE): InvalidFieldError[] {
  const out: InvalidFieldError[] = [];
  const fail = (field: keyof QueueLimits, rule: string): void => {
    out.push(new InvalidFieldError(field, rule, limits[field]));
  };
  for (const [field, value] of Object.entries(limits) as [keyof QueueLimits, unknown][]) {
    if (field === 'bounceHighmem') continue;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
      fail(field, 'must be a non-negative safe integer');
    }
  }
  if (out.length > 0) return out;
  if (limits.maxSegments < 1 || limits.maxSegments > 0xffff) fail('maxSegments', 'must be in 1..65535');
  if (limits.maxSegmentSize < pageSize || limits.maxSegmentSize > LINUX_UINT_MAX) {
    fail('maxSegmentSize', `must be in PAGE_SIZE (${pageSize})..UINT_MAX (4294967295)`);
  }
  for (const field of ['segBoundaryMask', 'virtBoundaryMask', 'dmaAlignment', 'dmaPadMask'] as const) {
    if (!isLowBitMask(limits[field])) fail(field, 'must be a low-bit mask 2^k - 1');
  }
  if (limits.segBoundaryMask < pageSize - 1)
    fail('segBoundaryMask', `must be >= PAGE_SIZE - 1 (${pageSize - 1})`);
  if (limits.virtBoundaryMask !== 0 && limits.maxSegmentSize !== LINUX_UINT_MAX) {
    fail(
      'maxSegmentSize',
      'must be UINT_MAX (4294967295) when virtBoundaryMask is set (blk_queue_virt_boundary)',
    );
  }
  if (limits.virtBoundaryMask >= pageSize) fail('virtBoundaryMask', `must be below PAGE_SIZE (${pageSize})`);
  if (limits.dmaAlignment >= pageSize) fail('dmaAlignment', `must be below PAGE_SIZE (${pageSize})`);
  if (
    !isPowerOfTwo(limits.logicalBlockSize) ||
    limits.logicalBlockSize < 512 ||
    limits.logicalBlockSize > pageSize
  ) {
    fail('logicalBlockSize', `must be a power of two in 512..PAGE_SIZE (${pageSize})`);
  }
  if (!isPowerOfTwo(limits.physicalBlockSize) || limits.physicalBlockSize < limits.logicalBlockSize) {
    fail('physicalBlockSize', 'must be a power of two >= logicalBlockSize');
  }
  if (limits.ioMin < limits.physicalBlockSize) fail('ioMin', 'must be >= physicalBlockSize');
  if (limits.maxHwSectors < pageSize / 512)
    fail('maxHwSectors', `must be >= PAGE_SIZE / 512 (${pageSize / 512})`);
  else if (limits.maxHwSectors % Math.max(1, limits.logicalBlockSize / 512) !== 0) {
    fail('maxHwSectors', 'must be a multiple of logicalBlockSize / 512');
  }
  if (limits.maxSectors < 1 || limits.maxSectors > limits.maxHwSectors) {
    fail('maxSectors', 'must be in 1..maxHwSectors');
  }
  return out;
}

/** Throws the first of {@link queueLimitsViolations}; returns `limits` when valid. */
export function validateQueueLimits(limits: QueueLimits, pageSize = X86_64_PAGE_SIZE): QueueLimits {
  const [first] = queueLimitsViolations(limits, pageSize);
  if (first) throw first;
  return limits;
}

/** Throws {@link InvalidFieldError} unless `pageSize` is a power of two in 4096..65536. */
export function validatePageSize(pageSize: number): number {
  if (!isPowerOfTwo(pageSize) || pageSize < 4096 || pageSize > 65536) {
    throw new InvalidFieldError('pageSize', 'must be a power of two in 4096..65536', pageSize);
  }
  return pageSize;
}

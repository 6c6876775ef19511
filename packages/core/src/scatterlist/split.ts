/**
 * Splitting a large READ/WRITE into the fewest block-aligned requests a
 * queue accepts (for transports that must stay under the kernel's limits).
 * @module
 */
import { InvalidFieldError } from '../errors/index.js';
import { X86_64_PAGE_SIZE } from '../limits/constants.js';
import { maxHwBytes, type QueueLimits } from '../limits/queue-limits.js';

/** A transfer to split. */
export interface LargeTransfer {
  /** First logical block. */
  readonly lba: bigint;
  /** Number of logical blocks (any size). */
  readonly blocks: bigint;
  /** Logical block size in bytes (default: the queue's logical_block_size). */
  readonly blockSize?: number;
  /** Most blocks one CDB can address (default 0xFFFF, READ(10)/WRITE(10); 0xFFFFFFFF for 16-byte CDBs). */
  readonly maxBlocksPerCommand?: number;
  /** Extra cap in bytes per request (e.g. sg's sg_tablesize x scatter_elem_sz indirect limit). */
  readonly maxBytesPerRequest?: number;
  /** PAGE_SIZE (default 4096). */
  readonly pageSize?: number;
}

/** One request of the split. */
export interface TransferChunk {
  /** First block. */
  readonly lba: bigint;
  /** Blocks in this request. */
  readonly blocks: number;
  /** Bytes in this request. */
  readonly bytes: number;
}

/**
 * Bytes one passthrough request can always carry on this queue, whatever the
 * buffer's physical layout: `max_hw_sectors << 9` (bio and `ll_back_merge_fn`
 * limit) and max_segments worst-case segments. The worst case is a page-aligned
 * buffer whose pages are all physically apart and one segment each, each
 * holding min(PAGE_SIZE, max_segment_size, seg boundary window) bytes; one
 * segment is kept in reserve for a buffer that does not start on a page.
 */
export function maxSafeRequestBytes(limits: QueueLimits, pageSize = X86_64_PAGE_SIZE): number {
  const perSegment = Math.min(pageSize, limits.maxSegmentSize, limits.segBoundaryMask + 1);
  const bySegments = Math.max(limits.maxSegments - 1, 1) * perSegment;
  return Math.min(maxHwBytes(limits), bySegments);
}

/**
 * Splits `transfer` into ceil(blocks / maxBlocks) requests, all full but the
 * last, where maxBlocks = floor(min(maxSafeRequestBytes, maxBytesPerRequest,
 * maxBlocksPerCommand x blockSize) / blockSize): no request count can be
 * smaller, since each request carries at most maxBlocks. Throws
 * {@link InvalidFieldError} when not even one block fits.
 */
export function splitLargeTransfer(limits: QueueLimits, transfer: LargeTransfer): TransferChunk[] {
  const blockSize = transfer.blockSize ?? limits.logicalBlockSize;
  if (!Number.isSafeInteger(blockSize) || blockSize <= 0) {
    throw new InvalidFieldError('blockSize', 'must be a positive integer', blockSize);
  }
  if (transfer.blocks < 0n) throw new InvalidFieldError('blocks', 'must be >= 0', transfer.blocks);
  if (transfer.lba < 0n) throw new InvalidFieldError('lba', 'must be >= 0', transfer.lba);
  const perCommand = transfer.maxBlocksPerCommand ?? 0xffff;
  const capBytes = Math.min(
    maxSafeRequestBytes(limits, transfer.pageSize ?? X86_64_PAGE_SIZE),
    transfer.maxBytesPerRequest ?? Number.POSITIVE_INFINITY,
    perCommand * blockSize,
  );
  const maxBlocks = Math.floor(capBytes / blockSize);
  if (maxBlocks < 1) {
    throw new InvalidFieldError(
      'blockSize',
      `one block must fit in a request (at most ${capBytes} bytes on this queue)`,
      blockSize,
    );
  }
  const chunks: TransferChunk[] = [];
  const step = BigInt(maxBlocks);
  for (let done = 0n; done < transfer.blocks; done += step) {
    const left = transfer.blocks - done;
    const blocks = Number(left < step ? left : step);
    chunks.push({ lba: transfer.lba + done, blocks, bytes: blocks * blockSize });
  }
  return chunks;
}

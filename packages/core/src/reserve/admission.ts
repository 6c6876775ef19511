/**
 * Admission of an sg v3 request's data path (drivers/scsi/sg.c, Linux 6.1):
 * SG_FLAG_MMAP_IO checks in `sg_new_write()` and the direct-IO test in
 * `sg_start_req()`.
 * @module
 */
import type { QueueLimits } from '../limits/queue-limits.js';
import { blkRqAligned } from '../scatterlist/copy-decision.js';
import type { TransferDirection } from '../scatterlist/iovec.js';
import type { SgReserveState } from './reserve-buffer.js';

/** The data-path fields of an sg v3 request. */
export interface SgDataRequest {
  /** `dxfer_len`. */
  readonly dxferLength: number;
  /** `dxfer_direction`. */
  readonly direction: TransferDirection;
  /** `flags & SG_FLAG_DIRECT_IO`. */
  readonly directIo: boolean;
  /** `flags & SG_FLAG_MMAP_IO`. */
  readonly mmapIo: boolean;
  /** `iovec_count` (0 = `dxferp` is a flat buffer). */
  readonly iovecCount: number;
  /** `dxferp` as an address (the flat buffer; ignored by the direct-IO test when iovecCount > 0). */
  readonly dxferp: number;
}

/** Why `sg_new_write()` refused an SG_FLAG_MMAP_IO request. */
export interface SgMmapIoRefusal {
  /** The errno. */
  readonly errno: 'ENOMEM' | 'EINVAL' | 'EBUSY';
  /** The rule's id (as in `TRANSFER_RULES`). */
  readonly id: 'sg-mmap-reserve-too-small' | 'sg-mmap-with-direct-io' | 'sg-mmap-reserve-busy';
  /** The rule, as a sentence. */
  readonly rule: string;
}

/**
 * SG_FLAG_MMAP_IO admission in `sg_new_write()` (drivers/scsi/sg.c; checked after the
 * interface_id test and before the CDB is read, in this order): dxfer_len > reserve
 * bufflen -> ENOMEM; DIRECT_IO as well -> EINVAL; reserve already in use -> EBUSY (one
 * outstanding mmap-ed command per fd). Undefined when admitted or not an mmap request. No
 * iovec check exists: with a non-NULL dxferp the driver still copies.
 */
export function sgMmapIoRefusal(
  request: SgDataRequest,
  reserve: SgReserveState,
): SgMmapIoRefusal | undefined {
  if (!request.mmapIo) return undefined;
  if (request.dxferLength > reserve.buffer.bufflen) {
    return {
      errno: 'ENOMEM',
      id: 'sg-mmap-reserve-too-small',
      rule: 'SG_FLAG_MMAP_IO with dxfer_len larger than the reserve (sg_new_write)',
    };
  }
  if (request.directIo) {
    return {
      errno: 'EINVAL',
      id: 'sg-mmap-with-direct-io',
      rule: 'SG_FLAG_MMAP_IO together with SG_FLAG_DIRECT_IO (sg_new_write)',
    };
  }
  if (reserve.inUse) {
    return {
      errno: 'EBUSY',
      id: 'sg-mmap-reserve-busy',
      rule: 'SG_FLAG_MMAP_IO while the reserve is in use (sg_new_write)',
    };
  }
  return undefined;
}

/** Why sg did or did not choose direct IO. */
export interface SgDirectIoDecision {
  /** Direct IO chosen (`md = NULL`): the reply will carry SG_INFO_DIRECT_IO if mapping succeeds. */
  readonly direct: boolean;
  /** The first condition that failed, or the reason it was chosen. */
  readonly reason: string;
}

/**
 * `sg_start_req()` (6.1) uses direct IO only when all hold: there is data
 * (dxfer_len > 0 and direction != NONE), allow_dio = 1, SG_FLAG_DIRECT_IO,
 * direction != SG_DXFER_UNKNOWN, iovec_count == 0, and
 * `blk_rq_aligned(q, dxferp, dxfer_len)`. Otherwise it silently uses indirect
 * IO (the reserve or a private buffer).
 */
export function sgDirectIoDecision(
  request: SgDataRequest,
  allowDio: boolean,
  limits: QueueLimits,
): SgDirectIoDecision {
  if (request.dxferLength <= 0 || request.direction === 'none')
    return { direct: false, reason: 'no data transfer' };
  if (!allowDio) return { direct: false, reason: 'allow_dio is 0' };
  if (!request.directIo) return { direct: false, reason: 'SG_FLAG_DIRECT_IO not set' };
  if (request.direction === 'unknown')
    return { direct: false, reason: 'dxfer_direction is SG_DXFER_UNKNOWN' };
  if (request.iovecCount !== 0) return { direct: false, reason: 'iovec_count is not 0' };
  if (!blkRqAligned(limits, request.dxferp, request.dxferLength)) {
    return {
      direct: false,
      reason: `dxferp or dxfer_len not aligned to dma_alignment | dma_pad_mask = ${limits.dmaAlignment | limits.dmaPadMask} (blk_rq_aligned)`,
    };
  }
  return { direct: true, reason: 'all direct-IO conditions hold' };
}

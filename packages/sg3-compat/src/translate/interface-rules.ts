/**
 * The two kernel interfaces that take an sg_io_hdr, and the rules in which they differ:
 * the sg driver (drivers/scsi/sg.c, /dev/sgN) and the block layer's SG_IO
 * (drivers/scsi/scsi_ioctl.c `sg_io()`, /dev/sdX and other SCSI block nodes).
 * @module
 */
import {
  SG_DXFER_FROM_DEV,
  SG_DXFER_NONE,
  SG_DXFER_TO_DEV,
  SG_DXFER_TO_FROM_DEV,
  SG_DXFER_UNKNOWN,
  SG_FLAG_Q_AT_HEAD,
  SG_FLAG_Q_AT_TAIL,
  type TransferDirection,
} from '@sgv4/core';

/** `sg`: the sg driver. `block`: SG_IO on a SCSI block device. */
export type SgInterface = 'sg' | 'block';

/**
 * Where a v3 request is queued. sg queues at the head unless a v3 header sets
 * SG_FLAG_Q_AT_TAIL (`sg_common_write()`: at_head = !(flags & Q_AT_TAIL)); block SG_IO at the
 * tail unless it sets SG_FLAG_Q_AT_HEAD (`sg_io()`: at_head = flags & Q_AT_HEAD). So with both
 * bits sg queues at the tail and block at the head.
 */
export function queuePositionOf(flags: number, iface: SgInterface): 'head' | 'tail' {
  if (iface === 'sg') return (flags & SG_FLAG_Q_AT_TAIL) !== 0 ? 'tail' : 'head';
  return (flags & SG_FLAG_Q_AT_HEAD) !== 0 ? 'head' : 'tail';
}

/**
 * What a `dxfer_direction` value means to the sg driver: TO_DEV writes, NONE moves nothing,
 * and every other value reads (REQ_OP_DRV_IN in `sg_start_req()`), TO_FROM_DEV after copying
 * the caller's buffer in and UNKNOWN without direct IO; any other number reads like FROM_DEV.
 */
export function transferDirectionOf(dxferDirection: number): TransferDirection {
  switch (dxferDirection) {
    case SG_DXFER_NONE:
      return 'none';
    case SG_DXFER_TO_DEV:
      return 'to-device';
    case SG_DXFER_TO_FROM_DEV:
      return 'to-from-device';
    case SG_DXFER_UNKNOWN:
      return 'unknown';
    default:
      return 'from-device';
  }
}

/** The `dxfer_direction` value of a direction (FROM_DEV for `from-device`). */
export function dxferDirectionOf(direction: TransferDirection): number {
  switch (direction) {
    case 'none':
      return SG_DXFER_NONE;
    case 'to-device':
      return SG_DXFER_TO_DEV;
    case 'to-from-device':
      return SG_DXFER_TO_FROM_DEV;
    case 'unknown':
      return SG_DXFER_UNKNOWN;
    case 'from-device':
      return SG_DXFER_FROM_DEV;
  }
}

/**
 * `struct sg_scsi_id` (include/scsi/sg.h), filled by SG_GET_SCSI_ID: 32 bytes on both ABIs
 * (no pointer or long member).
 * @module
 */
import type { SgAbi } from '../abi/c-abi.js';
import { StructCodec } from '../abi/struct-codec.js';

/** The device's address and queueing figures (`sg_ioctl_common()`, case SG_GET_SCSI_ID). */
export interface SgScsiId {
  /** Host number (`scsi<n>`). */
  hostNo: number;
  /** Channel (bus). */
  channel: number;
  /** Target id. */
  scsiId: number;
  /** LUN (truncated to int, as the kernel does). */
  lun: number;
  /** Peripheral device type (TYPE_DISK = 0, ...). */
  scsiType: number;
  /** The host's cmd_per_lun. */
  hCmdPerLun: number;
  /** The device's queue_depth. */
  dQueueDepth: number;
  /** Two unused ints (0). */
  unused: readonly number[];
}

/** The members of struct sg_scsi_id. */
export const SG_SCSI_ID = new StructCodec<SgScsiId>('sg_scsi_id', [
  { name: 'hostNo', cName: 'host_no', type: 's32' },
  { name: 'channel', cName: 'channel', type: 's32' },
  { name: 'scsiId', cName: 'scsi_id', type: 's32' },
  { name: 'lun', cName: 'lun', type: 's32' },
  { name: 'scsiType', cName: 'scsi_type', type: 's32' },
  { name: 'hCmdPerLun', cName: 'h_cmd_per_lun', type: 's16' },
  { name: 'dQueueDepth', cName: 'd_queue_depth', type: 's16' },
  { name: 'unused', cName: 'unused', type: 's32', count: 2 },
]);

/** Encodes an sg_scsi_id (32 bytes on either ABI). */
export function encodeSgScsiId(
  id: SgScsiId,
  abi: SgAbi = 'lp64',
  target?: Uint8Array,
  offset = 0,
): Uint8Array {
  return SG_SCSI_ID.encode(id, abi, target, offset);
}

/** Decodes an sg_scsi_id. */
export function decodeSgScsiId(bytes: Uint8Array, abi: SgAbi = 'lp64', offset = 0): SgScsiId {
  return SG_SCSI_ID.decode(bytes, abi, offset);
}

/**
 * ATAPI devices behind libata: the DMA drain buffer and the queue changes libata makes
 * for them (Linux 6.1: drivers/ata/libata-scsi.c `ata_scsi_dev_config`,
 * `ata_scsi_dma_need_drain`; drivers/ata/libata-core.c `atapi_cmd_type`;
 * drivers/scsi/scsi_lib.c `scsi_cmd_needs_dma_drain`, `scsi_alloc_sgtables`).
 * @module
 */
import type { QueueLimits } from '../limits/queue-limits.js';
import type { TransferDirection } from './iovec.js';

/** `ATAPI_MAX_DRAIN` (include/linux/libata.h): the drain buffer, 16 KiB. */
export const ATAPI_MAX_DRAIN = 16 * 1024;
/** `ATA_DMA_PAD_SZ` (include/linux/libata.h): ATAPI transfers are padded to 4 bytes. */
export const ATA_DMA_PAD_SZ = 4;

/** `atapi_cmd_type()`'s classes: ATAPI_READ, _WRITE, _READ_CD, _PASS_THRU, _MISC. */
export type AtapiCommandType = 'read' | 'write' | 'read-cd' | 'pass-thru' | 'misc';

/**
 * `atapi_cmd_type()` (drivers/ata/libata-core.c): READ(10)/(12) read; WRITE(10)/(12) and
 * WRITE AND VERIFY(10) write; READ CD and READ CD MSF read-cd; ATA PASS-THROUGH(16)/(12)
 * pass-thru while the `atapi_passthru16` module parameter is 1 (its default), else misc;
 * every other opcode misc.
 */
export function atapiCommandType(opcode: number, passthru16 = true): AtapiCommandType {
  switch (opcode) {
    case 0x28:
    case 0xa8:
      return 'read';
    case 0x2a:
    case 0xaa:
    case 0x2e:
      return 'write';
    case 0xbe:
    case 0xb9:
      return 'read-cd';
    case 0x85:
    case 0xa1:
      return passthru16 ? 'pass-thru' : 'misc';
    default:
      return 'misc';
  }
}

/**
 * `scsi_cmd_needs_dma_drain()` with libata's `ata_scsi_dma_need_drain()`: an ATAPI device
 * (`dma_drain_len` set), a passthrough request that is not a write (every direction but
 * data-out: `REQ_OP_DRV_IN`), and a command of type ATAPI_MISC, whose length the device may
 * overrun. The request must also carry data (`scsi_alloc_sgtables` runs only with a bio).
 */
export function atapiNeedsDmaDrain(opcode: number, direction: TransferDirection, passthru16 = true): boolean {
  return direction !== 'to-device' && atapiCommandType(opcode, passthru16) === 'misc';
}

/**
 * The queue of an ATAPI device after `ata_scsi_dev_config()`: `blk_queue_update_dma_pad(q,
 * ATA_DMA_PAD_SZ - 1)` (the pad mask only grows) and one segment fewer, kept for the drain
 * entry (`blk_queue_max_segments`, where 0 becomes 1).
 */
export function atapiQueueLimits(limits: QueueLimits): QueueLimits {
  return {
    ...limits,
    dmaPadMask: Math.max(limits.dmaPadMask, ATA_DMA_PAD_SZ - 1),
    maxSegments: Math.max(limits.maxSegments - 1, 1),
  };
}

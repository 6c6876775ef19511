/**
 * The header fields Linux 6.1 checks when a command is submitted, one shape per
 * submission structure: `struct sg_io_hdr` (sg SG_IO and write(2), block SG_IO), `struct
 * sg_io_v4` (bsg SG_IO), `struct scsi_ioctl_command` (SCSI_IOCTL_SEND_COMMAND) and `struct
 * cdrom_generic_command` (CDROM_SEND_PACKET).
 * @module
 */
import type { TransferDirection } from '../scatterlist/iovec.js';

/** `struct sg_io_hdr` (v3) as the checks read it. */
export interface SgIoHdrFields {
  /** Discriminant. */
  readonly kind: 'sg_io_hdr';
  /** `interface_id` (a character code: 'S' = 0x53 is the only valid one). */
  readonly interfaceId: number;
  /** `cmd_len` (unsigned char, 0..255). */
  readonly cmdLength: number;
  /** The bytes at `cmdp` (at least `cmdLength` of them), or null for a NULL `cmdp`. */
  readonly cdb: Uint8Array | null;
  /** `dxfer_direction`. */
  readonly dxferDirection: TransferDirection;
  /** `dxfer_len` (unsigned int). */
  readonly dxferLength: number;
  /** `flags & SG_FLAG_DIRECT_IO`. */
  readonly directIo?: boolean;
  /** `flags & SG_FLAG_MMAP_IO`. */
  readonly mmapIo?: boolean;
  /** `iovec_count` (0: `dxferp` is a flat buffer). */
  readonly iovecCount?: number;
}

/** `struct sg_io_v4` as bsg's checks read it. */
export interface SgIoV4Fields {
  /** Discriminant. */
  readonly kind: 'sg_io_v4';
  /** `guard` ('Q' = 0x51 is the only valid one). */
  readonly guard: number;
  /** `protocol` (0 = BSG_PROTOCOL_SCSI). */
  readonly protocol: number;
  /** `subprotocol` (0 = BSG_SUB_PROTOCOL_SCSI_CMD). */
  readonly subprotocol: number;
  /** `request_len` (u32; the kernel keeps its low 16 bits). */
  readonly requestLength: number;
  /** The bytes at `request` (at least the length the kernel copies), or null for NULL. */
  readonly request: Uint8Array | null;
  /** `dout_xfer_len`. */
  readonly doutXferLength: number;
  /** `din_xfer_len`. */
  readonly dinXferLength: number;
  /** `dout_iovec_count` (ignored by 6.1). */
  readonly doutIovecCount?: number;
  /** `din_iovec_count` (ignored by 6.1). */
  readonly dinIovecCount?: number;
}

/** `struct scsi_ioctl_command` of SCSI_IOCTL_SEND_COMMAND. */
export interface ScsiIoctlCommandFields {
  /** Discriminant. */
  readonly kind: 'scsi_ioctl_command';
  /** `inlen`: bytes of data to the device, after the CDB in `data`. */
  readonly inLength: number;
  /** `outlen`: bytes of data from the device. */
  readonly outLength: number;
  /** `data`: the CDB (its length is COMMAND_SIZE(opcode)), then the data-out bytes. */
  readonly data: Uint8Array;
}

/** `data_direction` of CDROM_SEND_PACKET (include/uapi/linux/cdrom.h CGC_DATA_*). */
export const CGC_DATA = { unknown: 0, write: 1, read: 2, none: 3 } as const;

/** `struct cdrom_generic_command` of CDROM_SEND_PACKET. */
export interface CdromGenericCommandFields {
  /** Discriminant. */
  readonly kind: 'cdrom_generic_command';
  /** `cmd[CDROM_PACKET_SIZE]`: always 12 bytes are sent. */
  readonly cmd: Uint8Array;
  /** `data_direction`: a CGC_DATA_* value (others are EINVAL). */
  readonly dataDirection: number;
  /** `buflen`. */
  readonly bufferLength: number;
}

/** Any of the submission structures. */
export type SubmissionHeader =
  | SgIoHdrFields
  | SgIoV4Fields
  | ScsiIoctlCommandFields
  | CdromGenericCommandFields;

/** `COMMAND_SIZE(opcode)` (include/scsi/scsi_common.h): the CDB length by opcode group. */
export function commandSize(opcode: number): number {
  return [6, 10, 10, 12, 16, 12, 10, 10][(opcode >> 5) & 7] ?? 10;
}

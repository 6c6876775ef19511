/**
 * How many sense bytes an SG_IO reply carries, and the status fields that come with them
 * (Linux 6.1: drivers/scsi/sg.c `sg_new_read`; drivers/scsi/scsi_ioctl.c
 * `scsi_complete_sghdr_rq`; drivers/scsi/scsi_bsg.c `scsi_bsg_sg_io_fn`, which all copy
 * the sense the midlayer kept: at most SCSI_SENSE_BUFFERSIZE = 96 bytes).
 * @module
 */
import { InvalidFieldError } from '../errors/index.js';

/** `SCSI_SENSE_BUFFERSIZE` (include/scsi/scsi_cmnd.h). */
const SENSE_BUFFER_SIZE = 96;
/** `DRIVER_SENSE` in the reply's driver_status. */
const DRIVER_SENSE = 0x08;

/** The completion of an sg v3 request, as `sg_new_read` sees it. */
export interface SgSenseReplyInput {
  /** The SCSI status byte (`scmd->result & 0xff`). */
  readonly status: number;
  /** `host_byte(result)` (0 when the transport delivered the command). */
  readonly hostStatus?: number;
  /** The sense bytes the device returned (empty when none). */
  readonly sense: Uint8Array;
  /** `mx_sb_len`. */
  readonly maxSenseLength: number;
  /** `sbp` is not NULL (default true). */
  readonly senseBufferGiven?: boolean;
}

/** The reply fields `sg_new_read` fills. */
export interface SgSenseReply {
  /** `sb_len_wr`: sense bytes copied to `sbp`. */
  readonly senseBytesWritten: number;
  /** `masked_status`: the status byte shifted right by one. */
  readonly maskedStatus: number;
  /** `driver_status`: DRIVER_SENSE (0x08) when sense was copied, else 0. */
  readonly driverStatus: number;
  /** `info & SG_INFO_CHECK`: masked_status, host_status or driver_status non-zero. */
  readonly infoCheck: boolean;
}

/**
 * `sg_new_read()` (drivers/scsi/sg.c): with `mx_sb_len > 0` and a sense buffer, when the
 * masked status is CHECK CONDITION or the sense bytes start with a response code 0x7x, it
 * copies `min(8 + sense[7], SCSI_SENSE_BUFFERSIZE, mx_sb_len)` bytes and sets DRIVER_SENSE;
 * SG_INFO_CHECK follows any non-zero masked, host or driver status. (Block SG_IO and bsg
 * copy `min(mx_sb_len, sense_len)` with the same `sense_len = min(8 + sense[7], 96)` from
 * `scsi_io_completion`.)
 */
export function sgSenseReply(input: SgSenseReplyInput): SgSenseReply {
  const { status, sense, maxSenseLength } = input;
  if (!Number.isInteger(status) || status < 0 || status > 0xff) {
    throw new InvalidFieldError('status', 'must be a SCSI status byte 0..255', status);
  }
  if (!Number.isInteger(maxSenseLength) || maxSenseLength < 0 || maxSenseLength > 0xff) {
    throw new InvalidFieldError('maxSenseLength', 'must be mx_sb_len, 0..255', maxSenseLength);
  }
  const maskedStatus = (status >> 1) & 0x7f;
  const checkCondition = (maskedStatus & 0x01) !== 0;
  const looksValid = sense.length > 0 && ((sense[0] ?? 0) & 0x70) === 0x70;
  let senseBytesWritten = 0;
  let driverStatus = 0;
  if (maxSenseLength > 0 && (input.senseBufferGiven ?? true) && (checkCondition || looksValid)) {
    const available = Math.min(8 + (sense[7] ?? 0), SENSE_BUFFER_SIZE);
    senseBytesWritten = Math.min(available, maxSenseLength);
    driverStatus = DRIVER_SENSE;
  }
  const infoCheck = maskedStatus !== 0 || (input.hostStatus ?? 0) !== 0 || driverStatus !== 0;
  return { senseBytesWritten, maskedStatus, driverStatus, infoCheck };
}

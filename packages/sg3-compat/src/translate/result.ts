/**
 * A completed request's {@link ScsiResponse} -> the output fields of an sg_io_hdr, by the
 * rules of the interface the caller thinks it is talking to, and back.
 * @module
 */
import {
  createSgIoV4Header,
  DriverStatus,
  responseFromSgIoV4,
  SCSI_SENSE_BUFFERSIZE,
  type ScsiResponse,
  ScsiStatus,
  SG_INFO_CHECK,
  SG_INFO_DIRECT_IO_MASK,
  sgSenseReply,
  type TransferDirection,
} from '@sgv4/core';
import { maskedStatusOf } from '../constants.js';
import type { SgIoHdr } from '../structs/sg-io-hdr.js';
import type { SgInterface } from './interface-rules.js';

/** The `[o]` fields of an sg_io_hdr. */
export type SgV3Result = Pick<
  SgIoHdr,
  | 'status'
  | 'maskedStatus'
  | 'msgStatus'
  | 'sbLenWr'
  | 'hostStatus'
  | 'driverStatus'
  | 'resid'
  | 'duration'
  | 'info'
>;

/** What the result rules need to know about the request. */
export interface SgV3ResultContext {
  /** The rules to apply (default `sg`). */
  readonly interface?: SgInterface;
  /** The request's data direction (`none` when nothing moved): picks din_resid or dout_resid. */
  readonly direction: TransferDirection;
  /** The request's mx_sb_len. */
  readonly mxSbLen: number;
  /** Whether the request has a sense buffer (sbp != NULL). */
  readonly hasSenseBuffer: boolean;
}

/** The v3 outputs and the sense bytes to write at sbp (`sbLenWr` of them). */
export interface SgV3Outcome {
  /** The output fields. */
  readonly result: SgV3Result;
  /** The bytes for the caller's sense buffer. */
  readonly sense: Uint8Array;
}

/** The response's sense bytes in a SCSI_SENSE_BUFFERSIZE buffer, zero past what was returned. */
function senseBuffer(response: ScsiResponse): Uint8Array {
  const out = new Uint8Array(SCSI_SENSE_BUFFERSIZE);
  out.set(response.sense.subarray(0, SCSI_SENSE_BUFFERSIZE));
  return out;
}

/**
 * `scmd->sense_len` for a passthrough command (drivers/scsi/scsi_lib.c
 * `scsi_io_completion_nz_result()`): only a command that ended with a non-zero result (status,
 * host or driver byte) gets its sense looked at, and only valid sense (response code 0x70..0x73,
 * `scsi_normalize_sense()`) counts: min(8 + additional length, 96). Otherwise 0: no sense.
 */
function senseLength(response: ScsiResponse, sense96: Uint8Array): number {
  const nonZeroResult =
    (response.status & 0xff) !== 0 ||
    response.hostStatus !== 0 ||
    (response.driverStatus & ~DriverStatus.DRIVER_SENSE) !== 0;
  const valid = response.sense.length > 0 && (sense96[0]! & 0x70) === 0x70;
  return nonZeroResult && valid ? Math.min(8 + sense96[7]!, SCSI_SENSE_BUFFERSIZE) : 0;
}

/**
 * The v3 result of a response. Common to both interfaces: status = the status byte;
 * masked_status = `status_byte()` = (status >> 1) & 0x7f; msg_status = 0 (COMMAND COMPLETE, all
 * 6.1 reports); host_status; resid = dout_resid for data-out, else din_resid; duration; info's
 * SG_INFO_CHECK when masked_status, host_status or driver_status is non-zero, plus the
 * response's direct-IO bits. The sense the kernel keeps is `scmd->sense_len` bytes: the
 * response's, when the command failed (non-zero result) with valid sense (see senseLength).
 *
 * sg (`sg_rq_end_io()` copies the kept sense into its 96-byte `sense_b`, else leaves it zero;
 * `sg_new_read()`): when mx_sb_len > 0, sbp is set and either the masked status has the CHECK
 * CONDITION bit (CHECK CONDITION, COMMAND TERMINATED) or `sense_b` starts with a response code
 * 0x7x, min(mx_sb_len, 96, 8 + sense_b[7]) bytes are copied (eight zeros for CHECK CONDITION
 * without sense), driver_status becomes DRIVER_SENSE and sb_len_wr that length; otherwise
 * driver_status is the driver byte, which 6.1 never sets (kept from transports that do).
 *
 * block (`scsi_complete_sghdr_rq()`): driver_status is DRIVER_SENSE for CHECK CONDITION and
 * else 0; with kept sense and sbp set, min(mx_sb_len, sense_len) bytes are copied.
 */
export function sgV3ResultFromResponse(response: ScsiResponse, context: SgV3ResultContext): SgV3Outcome {
  const iface = context.interface ?? 'sg';
  const status = response.status & 0xff;
  const maskedStatus = maskedStatusOf(status);
  const sense96 = senseBuffer(response);
  const kept = senseLength(response, sense96);
  const senseB = kept > 0 ? sense96 : new Uint8Array(SCSI_SENSE_BUFFERSIZE);
  let sbLenWr = 0;
  let driverStatus: number;
  if (iface === 'sg') {
    // sg_new_read()'s rule is @sgv4/core's sgSenseReply, applied to what sense_b holds.
    const reply = sgSenseReply({
      status,
      hostStatus: response.hostStatus,
      sense: kept > 0 ? senseB : new Uint8Array(0),
      maxSenseLength: context.mxSbLen,
      senseBufferGiven: context.hasSenseBuffer,
    });
    sbLenWr = reply.senseBytesWritten;
    driverStatus =
      reply.driverStatus !== 0
        ? DriverStatus.DRIVER_SENSE
        : response.driverStatus & ~DriverStatus.DRIVER_SENSE & 0xffff;
  } else {
    driverStatus = (status & 0xfe) === ScsiStatus.CHECK_CONDITION ? DriverStatus.DRIVER_SENSE : 0;
    if (kept > 0 && context.hasSenseBuffer) sbLenWr = Math.min(context.mxSbLen, kept);
  }
  const hostStatus = response.hostStatus & 0xffff;
  const check = maskedStatus !== 0 || hostStatus !== 0 || driverStatus !== 0 ? SG_INFO_CHECK : 0;
  return {
    result: {
      status,
      maskedStatus,
      msgStatus: 0,
      sbLenWr,
      hostStatus,
      driverStatus,
      resid: context.direction === 'to-device' ? response.doutResid : response.dinResid,
      duration: response.durationMs,
      info: (response.info & SG_INFO_DIRECT_IO_MASK) | check,
    },
    sense: senseB.slice(0, sbLenWr),
  };
}

/**
 * The response a v3 result stands for (the inverse of {@link sgV3ResultFromResponse} on every
 * result it produces): status, host and driver bytes, the `sbLenWr` sense bytes (decoded when
 * they decode), resid as din_resid or dout_resid by direction, duration, info, usr_ptr.
 *
 * One fact a v3 result cannot show: sense written (sb_len_wr > 0) with status and host byte
 * both 0 means the command ended with a non-zero driver byte other than DRIVER_SENSE (only a
 * non-zero result keeps sense, `scsi_io_completion_nz_result()`), which sg then overwrote
 * with DRIVER_SENSE (`sg_new_read()`) and block dropped (`scsi_complete_sghdr_rq()`). The
 * response puts DRIVER_ERROR back as its stand-in, so the rules keep the same sense again.
 */
export function responseFromSgV3Result(
  result: SgV3Result,
  sense: Uint8Array,
  direction: TransferDirection,
  usrPtr = 0n,
): ScsiResponse {
  const out = direction === 'to-device';
  const driverByteLost =
    result.sbLenWr > 0 &&
    (result.status & 0xff) === 0 &&
    result.hostStatus === 0 &&
    (result.driverStatus & ~DriverStatus.DRIVER_SENSE) === 0;
  return responseFromSgIoV4(
    createSgIoV4Header({
      deviceStatus: result.status,
      transportStatus: result.hostStatus,
      driverStatus: result.driverStatus | (driverByteLost ? DriverStatus.DRIVER_ERROR : 0),
      responseLen: result.sbLenWr,
      duration: result.duration,
      info: result.info,
      dinResid: out ? 0 : result.resid,
      doutResid: out ? result.resid : 0,
      usrPtr,
    }),
    sense.subarray(0, result.sbLenWr),
  );
}

/**
 * The canonical request/response model (v4-shaped, as sg3_utils' sg_pt object holds an
 * sg_io_v4 internally) and its conversion to and from an {@link SgIoV4Header}.
 * @module
 */
import { DeviceError } from '../errors/device-error.js';
import { InvalidFieldError } from '../errors/invalid-field-error.js';
import { ResultCategory } from '../errors/result-category.js';
import { TransportError } from '../errors/transport-error.js';
import { decodeSense } from '../sense/decode-sense.js';
import type { DecodedSense } from '../sense/decoded-sense.js';
import { formatSenseLine } from '../sense/format-sense.js';
import { DriverStatus, ScsiStatus, scsiStatusName } from '../sense/status-names.js';
import { type TaskAttribute, taskAttributeCode, taskAttributeFromCode } from '../tags/task-attribute.js';
import {
  BSG_FLAG_Q_AT_HEAD,
  BSG_FLAG_Q_AT_TAIL,
  BSG_PROTOCOL_SCSI,
  BSG_SUB_PROTOCOL_SCSI_CMD,
} from './constants.js';
import { createSgIoV4Header, type SgIoV4Header } from './header.js';

/** A data buffer: one flat buffer, or an iovec list (scatter/gather in user space). */
export type DataBuffer = Uint8Array | readonly Uint8Array[];

/** Largest CDB Linux 6.1 accepts (bsg: request_len > 32 -> EINVAL; sizeof scsi_cmnd.cmnd). */
export const MAX_CDB_LENGTH = 32;
/** SCSI_SENSE_BUFFERSIZE: the most sense data the 6.1 midlayer keeps (include/scsi/scsi_cmnd.h). */
export const SCSI_SENSE_BUFFERSIZE = 96;
/** UIO_MAXIOV: the most iovecs the block layer imports (include/uapi/linux/uio.h). */
const UIO_MAXIOV = 1024;

/** A SCSI command request, transport-neutral. */
export interface ScsiRequest {
  /** The CDB (1..32 bytes). */
  readonly cdb: Uint8Array;
  /** Data to the device. */
  readonly dataOut?: DataBuffer;
  /** Buffer for data from the device. */
  readonly dataIn?: DataBuffer;
  /** Timeout in ms (0 or absent = the device default; bsg: 60 s, raised to at least 7 s). */
  readonly timeoutMs?: number;
  /** Queue position: bsg and sg default to head, block SG_IO to tail. Absent = the path's default. */
  readonly queueAt?: 'head' | 'tail';
  /** Task tag (request_tag). Honoured only by transports that can tag (see TransportCapabilities). */
  readonly tag?: bigint;
  /** Task attribute (request_attr, SAS/SAM code: SIMPLE 0, HEAD OF QUEUE 1, ORDERED 2, ACA 4). */
  readonly attribute?: TaskAttribute;
  /** Command priority (request_priority, SAM-6 COMMAND PRIORITY 0..15; 0 = none). */
  readonly priority?: number;
  /** Caller's cookie (usr_ptr), returned unchanged. */
  readonly usrPtr?: bigint;
  /** Pack id (request_extra; the sg v4 driver matches on it). */
  readonly packId?: number;
  /** Sense buffer size (max_response_len), default {@link SCSI_SENSE_BUFFERSIZE}. */
  readonly maxSenseLength?: number;
  /** Extra flags ORed into `flags` (SGV4_FLAG_*), e.g. YIELD_TAG. */
  readonly flags?: number;
}

/** User-space addresses the native layer pinned for a request's buffers. */
export interface RequestAddresses {
  /** Address of the CDB. */
  readonly cdb: bigint;
  /** Address of the sense buffer. */
  readonly sense: bigint;
  /** Address of the data-out buffer or iovec array (0 when none). */
  readonly dataOut?: bigint;
  /** Address of the data-in buffer or iovec array (0 when none). */
  readonly dataIn?: bigint;
}

function dataLength(field: string, data: DataBuffer | undefined): { length: number; iovecs: number } {
  if (data === undefined) return { length: 0, iovecs: 0 };
  if (data instanceof Uint8Array) return { length: data.length, iovecs: 0 };
  if (!Array.isArray(data) || data.some((b) => !(b instanceof Uint8Array))) {
    throw new InvalidFieldError(field, 'must be a Uint8Array or an array of Uint8Array (iovecs)', data);
  }
  if (data.length === 0 || data.length > UIO_MAXIOV) {
    throw new InvalidFieldError(field, `must have 1..${UIO_MAXIOV} iovecs (UIO_MAXIOV)`, data);
  }
  const length = data.reduce((n, b) => n + b.length, 0);
  return { length, iovecs: data.length };
}

function u32(field: string, v: number | undefined, fallback: number, max = 0xffff_ffff): number {
  if (v === undefined) return fallback;
  if (!Number.isInteger(v) || v < 0 || v > max)
    throw new InvalidFieldError(field, `must be an integer in 0..${max}`, v);
  return v;
}

/**
 * Validates a request against the model's rules and returns its sg_io_v4 header (protocol SCSI,
 * subprotocol command), with the buffer addresses from `addresses` (all 0 when omitted, for
 * inspection). Rules: CDB 1..32 bytes; transfer lengths < 2^32; iovec lists 1..1024 entries;
 * timeout, packId, maxSenseLength and flags fit __u32; priority 0..15; tag and usrPtr fit __u64.
 * Bidirectional requests are representable (v4 has both directions) even though Linux >= 5.1
 * rejects them (bsg: EOPNOTSUPP), so the transport decides.
 */
export function requestToSgIoV4(request: ScsiRequest, addresses?: RequestAddresses): SgIoV4Header {
  const cdb = request.cdb;
  if (!(cdb instanceof Uint8Array) || cdb.length < 1 || cdb.length > MAX_CDB_LENGTH) {
    throw new InvalidFieldError('cdb', `must be a Uint8Array of 1..${MAX_CDB_LENGTH} bytes`, cdb);
  }
  const out = dataLength('dataOut', request.dataOut);
  const din = dataLength('dataIn', request.dataIn);
  if (out.length > 0xffff_ffff)
    throw new InvalidFieldError('dataOut', 'must total less than 4 GiB', out.length);
  if (din.length > 0xffff_ffff)
    throw new InvalidFieldError('dataIn', 'must total less than 4 GiB', din.length);
  const priority = u32('priority', request.priority, 0, 15);
  const tag = request.tag ?? 0n;
  if (typeof tag !== 'bigint' || tag < 0n || tag > 0xffff_ffff_ffff_ffffn) {
    throw new InvalidFieldError('tag', 'must be a bigint in 0..2^64-1', request.tag);
  }
  const usrPtr = request.usrPtr ?? 0n;
  if (typeof usrPtr !== 'bigint' || usrPtr < 0n || usrPtr > 0xffff_ffff_ffff_ffffn) {
    throw new InvalidFieldError('usrPtr', 'must be a bigint in 0..2^64-1', request.usrPtr);
  }
  let flags = u32('flags', request.flags, 0);
  if (request.queueAt === 'head') flags |= BSG_FLAG_Q_AT_HEAD;
  else if (request.queueAt === 'tail') flags |= BSG_FLAG_Q_AT_TAIL;
  else if (request.queueAt !== undefined)
    throw new InvalidFieldError('queueAt', "must be 'head' or 'tail'", request.queueAt);
  return createSgIoV4Header({
    protocol: BSG_PROTOCOL_SCSI,
    subprotocol: BSG_SUB_PROTOCOL_SCSI_CMD,
    requestLen: cdb.length,
    request: addresses?.cdb ?? 0n,
    requestTag: tag,
    requestAttr: request.attribute === undefined ? 0 : taskAttributeCode(request.attribute, 'sas'),
    requestPriority: priority,
    requestExtra: u32('packId', request.packId, 0),
    maxResponseLen: u32('maxSenseLength', request.maxSenseLength, SCSI_SENSE_BUFFERSIZE),
    response: addresses?.sense ?? 0n,
    doutIovecCount: out.iovecs,
    doutXferLen: out.length,
    dinIovecCount: din.iovecs,
    dinXferLen: din.length,
    doutXferp: addresses?.dataOut ?? 0n,
    dinXferp: addresses?.dataIn ?? 0n,
    timeout: u32('timeoutMs', request.timeoutMs, 0),
    flags: flags >>> 0,
    usrPtr,
  });
}

/** The request fields an sg_io_v4 header carries (buffers are addresses there, so they are not recovered). */
export function requestFieldsFromSgIoV4(
  header: SgIoV4Header,
): Omit<ScsiRequest, 'cdb' | 'dataIn' | 'dataOut'> {
  const queueAt =
    (header.flags & BSG_FLAG_Q_AT_HEAD) !== 0
      ? 'head'
      : (header.flags & BSG_FLAG_Q_AT_TAIL) !== 0
        ? 'tail'
        : undefined;
  const rest = header.flags & ~(BSG_FLAG_Q_AT_HEAD | BSG_FLAG_Q_AT_TAIL);
  return {
    timeoutMs: header.timeout,
    ...(queueAt ? { queueAt } : {}),
    tag: header.requestTag,
    attribute: taskAttributeFromCode(header.requestAttr, 'sas'),
    priority: header.requestPriority,
    usrPtr: header.usrPtr,
    packId: header.requestExtra,
    maxSenseLength: header.maxResponseLen,
    ...(rest !== 0 ? { flags: rest >>> 0 } : {}),
  };
}

/** A completed request's outcome. */
export interface ScsiResponse {
  /** SCSI status byte (device_status). */
  readonly status: number;
  /** Its name, e.g. `CHECK CONDITION`. */
  readonly statusName: string;
  /** Host byte (transport_status). */
  readonly hostStatus: number;
  /** Driver byte (driver_status). */
  readonly driverStatus: number;
  /** The sense bytes written (response_len of them). */
  readonly sense: Uint8Array;
  /** Decoded sense, when there is valid sense data. */
  readonly decodedSense?: DecodedSense;
  /** Data-in residual (bytes not transferred), signed. */
  readonly dinResid: number;
  /** Data-out residual, signed. */
  readonly doutResid: number;
  /** Duration in ms. */
  readonly durationMs: number;
  /** SG_INFO_* bits. */
  readonly info: number;
  /** Tag the transport generated (sg v4 driver with YIELD_TAG), else 0. */
  readonly generatedTag: bigint;
  /** The caller's usr_ptr, returned. */
  readonly usrPtr: bigint;
  /** GOOD < STATUS < SENSE < TRANSPORT_ERR (OS_ERR never appears: the call failed, no response). */
  readonly category: ResultCategory;
}

/**
 * The result category of a completed request, by sg3_utils' `get_scsi_pt_result_category()`
 * for Linux (lib/sg_pt_linux_nvme.c / sg_pt_linux.c): host byte set, or a driver byte other
 * than OK/DRIVER_SENSE -> TRANSPORT_ERR; sense bytes with CHECK CONDITION or COMMAND TERMINATED
 * -> SENSE; any other non-GOOD status -> STATUS; else GOOD.
 */
export function resultCategoryOf(
  status: number,
  hostStatus: number,
  driverStatus: number,
  senseLength: number,
): ResultCategory {
  const driver = driverStatus & 0x0f;
  if (hostStatus !== 0) return ResultCategory.TRANSPORT_ERR;
  if (driver !== 0 && driver !== DriverStatus.DRIVER_SENSE) return ResultCategory.TRANSPORT_ERR;
  if (
    senseLength > 0 &&
    (status === ScsiStatus.CHECK_CONDITION || status === ScsiStatus.COMMAND_TERMINATED)
  ) {
    return ResultCategory.SENSE;
  }
  if (status !== ScsiStatus.GOOD) return ResultCategory.STATUS;
  return ResultCategory.GOOD;
}

/** What a finished command reported, before the library adds its reading of it. */
export interface CommandOutcome {
  /** SCSI status byte. */
  readonly status: number;
  /** Host byte (sg_io_v4 `transport_status`); 0x03 DID_TIME_OUT marks a timeout. */
  readonly hostStatus: number;
  /** Driver byte (0x08 DRIVER_SENSE with sense data). */
  readonly driverStatus: number;
  /** Exactly the sense bytes received (empty when none). */
  readonly sense: Uint8Array;
  /** Data-in bytes not transferred (signed, as the kernel reports it). */
  readonly dinResid: number;
  /** Data-out bytes not transferred (signed). */
  readonly doutResid: number;
  /** Duration in milliseconds. */
  readonly durationMs: number;
  /** SG_INFO_* bits where the path reports them (sg, bsg), else 0. */
  readonly info: number;
  /** sg_io_v4 `generated_tag`, where an sg_io_v4 header carried the command. */
  readonly generatedTag?: bigint;
  /** sg_io_v4 `usr_ptr`, where an sg_io_v4 header carried the command. */
  readonly usrPtr?: bigint;
}

/**
 * The response to a finished command, whichever path ran it (sg_io_v4 header, a transport, the
 * sgv4 ring): the status name, the decoded sense and the sg_pt-style result category. Sense that
 * does not decode is kept raw (`decodedSense` absent) rather than failing the whole response.
 */
export function scsiResponse(outcome: CommandOutcome): ScsiResponse {
  const { sense } = outcome;
  let decodedSense: DecodedSense | undefined;
  if (sense.length > 0) {
    try {
      decodedSense = decodeSense(sense);
    } catch {
      decodedSense = undefined;
    }
  }
  return {
    status: outcome.status,
    statusName: scsiStatusName(outcome.status),
    hostStatus: outcome.hostStatus,
    driverStatus: outcome.driverStatus,
    sense,
    ...(decodedSense ? { decodedSense } : {}),
    dinResid: outcome.dinResid,
    doutResid: outcome.doutResid,
    durationMs: outcome.durationMs,
    info: outcome.info,
    generatedTag: outcome.generatedTag ?? 0n,
    usrPtr: outcome.usrPtr ?? 0n,
    category: resultCategoryOf(outcome.status, outcome.hostStatus, outcome.driverStatus, sense.length),
  };
}

/**
 * Builds the response from a header the kernel filled in and the sense buffer it wrote
 * (only the first `responseLen` bytes are used).
 */
export function responseFromSgIoV4(
  header: SgIoV4Header,
  senseBuffer: Uint8Array = new Uint8Array(),
): ScsiResponse {
  return scsiResponse({
    status: header.deviceStatus,
    hostStatus: header.transportStatus,
    driverStatus: header.driverStatus,
    sense: senseBuffer.subarray(0, Math.min(header.responseLen, senseBuffer.length)),
    dinResid: header.dinResid,
    doutResid: header.doutResid,
    durationMs: header.duration,
    info: header.info,
    generatedTag: header.generatedTag,
    usrPtr: header.usrPtr,
  });
}

/**
 * The error a response stands for: undefined for GOOD (and for CONDITION MET, a success status),
 * TransportError for TRANSPORT_ERR, DeviceError (with decoded sense when present) otherwise.
 */
export function responseError(response: ScsiResponse): TransportError | DeviceError | undefined {
  switch (response.category) {
    case ResultCategory.GOOD:
      return undefined;
    case ResultCategory.TRANSPORT_ERR:
      return new TransportError(response.hostStatus, response.driverStatus);
    default:
      if (response.status === ScsiStatus.CONDITION_MET) return undefined;
      return new DeviceError(
        response.status,
        response.decodedSense,
        response.decodedSense ? formatSenseLine(response.decodedSense) : undefined,
      );
  }
}

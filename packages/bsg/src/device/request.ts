/**
 * The request a caller gives a {@link Device} and the response it gets back, and the
 * validation that turns the former into a transport request.
 * @module
 */
import {
  type DataBuffer,
  InvalidFieldError,
  MAX_CDB_LENGTH,
  NotSupportedError,
  SCSI_SENSE_BUFFERSIZE,
  type ScsiResponse,
  TaskAttribute,
} from '@sgv4/core';
import type { DeviceCapabilities, TransferMode } from '../transport/transport.js';

/** Options every request and command helper accepts. */
export interface RequestOptions {
  /** Timeout in milliseconds (default: the Device's, 60 000 unless opened otherwise). */
  readonly timeoutMs?: number;
  /** Cancels the request: queued ones are removed, ones in flight are abandoned. */
  readonly signal?: AbortSignal;
  /** SAM task attribute (default SIMPLE). */
  readonly attribute?: TaskAttribute;
  /** SAM-6 command priority: 1 highest .. 15 lowest, 0 none (default). */
  readonly priority?: number;
  /** Task tag: required when the Device uses caller-assigned tags, else omitted. */
  readonly tag?: bigint;
}

/** One SCSI command for {@link Device.submit}. */
export interface DeviceRequest extends RequestOptions {
  /** The CDB (1..32 bytes). */
  readonly cdb: Uint8Array;
  /** Buffer for data from the device: flat, or iovecs where the transport takes them. */
  readonly dataIn?: DataBuffer;
  /** Data to the device. */
  readonly dataOut?: DataBuffer;
  /** Queue position where the path takes one (sg and bsg default to head, block SG_IO to tail). */
  readonly queueAt?: 'head' | 'tail';
  /** Data transfer mode (default `indirect`). */
  readonly transfer?: TransferMode;
  /** Sense buffer size (default 96). */
  readonly maxSenseLength?: number;
}

/** A completed command: the core's response plus what the Device adds. */
export interface DeviceResponse extends ScsiResponse {
  /** The task tag it ran under. */
  readonly tag: bigint;
  /** False when the tag was a software tag the device never saw. */
  readonly tagOnWire: boolean;
  /** Bytes actually moved: requested length minus the residual, never negative. */
  readonly transferred: number;
}

/**
 * What {@link Device.submit} returns: the response promise, carrying the task tag the request
 * got (undefined when it was refused before a tag was assigned), so it can be aborted by tag.
 */
export type SubmittedRequest = Promise<DeviceResponse> & { readonly tag: bigint | undefined };

/** A request after validation: lengths known, defaults applied. */
export interface ValidatedRequest {
  /** The caller's request. */
  readonly request: DeviceRequest;
  /** Resolved attribute. */
  readonly attribute: TaskAttribute;
  /** Resolved priority. */
  readonly priority: number;
  /** Resolved timeout. */
  readonly timeoutMs: number;
  /** Resolved transfer mode. */
  readonly transfer: TransferMode;
  /** Resolved sense buffer size. */
  readonly maxSenseLength: number;
  /** Data direction. */
  readonly direction: 'none' | 'in' | 'out';
  /** Bytes requested in the data direction. */
  readonly length: number;
}

/** UIO_MAXIOV (include/uapi/linux/uio.h): the most iovecs the block layer imports. */
const UIO_MAXIOV = 1024;
/** The sg_io_v4 transfer lengths are __u32. */
const MAX_TRANSFER = 0xffff_ffff;

function dataLength(field: string, data: DataBuffer | undefined, caps: DeviceCapabilities): number {
  if (data === undefined) return 0;
  if (data instanceof Uint8Array) return data.length;
  if (!Array.isArray(data) || data.some((b) => !(b instanceof Uint8Array))) {
    throw new InvalidFieldError(field, 'must be a Uint8Array or an array of Uint8Array (iovecs)', data);
  }
  if (!caps.iovecs) {
    throw new NotSupportedError('iovecs', `${caps.name} takes one flat buffer per direction (${caps.note})`);
  }
  if (data.length === 0 || data.length > UIO_MAXIOV) {
    throw new InvalidFieldError(field, `must have 1..${UIO_MAXIOV} iovecs (UIO_MAXIOV)`, data);
  }
  return data.reduce((n, b) => n + b.length, 0);
}

const ATTRIBUTES: readonly string[] = Object.values(TaskAttribute);

/**
 * Checks a request against the model's rules and the transport's capabilities. Rules: CDB
 * 1..32 bytes (MAX_CDB_LENGTH, the 6.1 limit of scsi_cmnd.cmnd); data in at most one
 * direction (bidirectional commands were removed in Linux 5.1: bsg answers EOPNOTSUPP,
 * sg_io_hdr cannot express them); lengths < 2^32; timeout an integer 1..2^32-1 ms (0 is not
 * "the default" here: omit the field); priority 0..15; attribute one of the SAM four, ACA only
 * where attributes reach the device; sense buffer 1..255 bytes (sg_io_hdr.mx_sb_len is a u8).
 */
export function validateRequest(
  request: DeviceRequest,
  caps: DeviceCapabilities,
  defaultTimeoutMs: number,
): ValidatedRequest {
  if (typeof request !== 'object' || request === null) {
    throw new InvalidFieldError('request', 'must be an object with a cdb', request);
  }
  const cdb = request.cdb;
  if (!(cdb instanceof Uint8Array) || cdb.length < 1 || cdb.length > MAX_CDB_LENGTH) {
    throw new InvalidFieldError('cdb', `must be a Uint8Array of 1..${MAX_CDB_LENGTH} bytes`, cdb);
  }
  const inLength = dataLength('dataIn', request.dataIn, caps);
  const outLength = dataLength('dataOut', request.dataOut, caps);
  if (request.dataIn !== undefined && request.dataOut !== undefined) {
    throw new NotSupportedError(
      'bidirectional data',
      'Linux removed bidirectional SCSI commands in 5.1 (bsg: EOPNOTSUPP; sg_io_hdr cannot carry both)',
    );
  }
  if (inLength > MAX_TRANSFER) throw new InvalidFieldError('dataIn', 'must total less than 4 GiB', inLength);
  if (outLength > MAX_TRANSFER)
    throw new InvalidFieldError('dataOut', 'must total less than 4 GiB', outLength);
  const timeoutMs = request.timeoutMs ?? defaultTimeoutMs;
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > MAX_TRANSFER) {
    throw new InvalidFieldError('timeoutMs', 'must be an integer in 1..4294967295 (ms)', request.timeoutMs);
  }
  const priority = request.priority ?? 0;
  if (!Number.isInteger(priority) || priority < 0 || priority > 15) {
    throw new InvalidFieldError('priority', 'must be an integer in 0..15 (SAM-6 command priority)', priority);
  }
  const attribute = request.attribute ?? TaskAttribute.SIMPLE;
  if (!ATTRIBUTES.includes(attribute)) {
    throw new InvalidFieldError('attribute', `must be one of ${ATTRIBUTES.join(', ')}`, attribute);
  }
  if (attribute === TaskAttribute.ACA && caps.taskAttributes !== 'wire') {
    throw new NotSupportedError(
      'task attribute ACA',
      `${caps.name} does not carry task attributes, and an ACA task only means something at the device server`,
    );
  }
  const transfer = request.transfer ?? 'indirect';
  if (transfer !== 'indirect' && transfer !== 'direct' && transfer !== 'mmap') {
    throw new InvalidFieldError('transfer', "must be 'indirect', 'direct' or 'mmap'", transfer);
  }
  if (transfer === 'mmap' && !caps.mmap) {
    throw new NotSupportedError(
      'mmap-ed IO',
      `${caps.name}: only the sg driver has an mmap-able reserved buffer`,
    );
  }
  if (transfer === 'direct' && caps.directIo === 'none') {
    throw new NotSupportedError('direct IO', `${caps.name} always copies data`);
  }
  if (request.queueAt !== undefined && request.queueAt !== 'head' && request.queueAt !== 'tail') {
    throw new InvalidFieldError('queueAt', "must be 'head' or 'tail'", request.queueAt);
  }
  const maxSenseLength = request.maxSenseLength ?? SCSI_SENSE_BUFFERSIZE;
  if (!Number.isInteger(maxSenseLength) || maxSenseLength < 1 || maxSenseLength > 255) {
    throw new InvalidFieldError('maxSenseLength', 'must be an integer in 1..255', maxSenseLength);
  }
  const direction = request.dataIn !== undefined ? 'in' : request.dataOut !== undefined ? 'out' : 'none';
  return {
    request,
    attribute,
    priority,
    timeoutMs,
    transfer,
    maxSenseLength,
    direction,
    length: direction === 'in' ? inLength : outLength,
  };
}

/**
 * The one thing the compat layer needs from a device: run a canonical request and hand back
 * its response, whatever the SCSI status.
 * @module
 */
import type { DataBuffer, ScsiResponse, TaskAttribute } from '@sgv4/core';

/**
 * What the compat layer asks a device to run: the fields of @sgv4/core's ScsiRequest a device
 * needs, plus an abort signal (a translated request passes as it is).
 */
export interface ScsiExecutorRequest {
  /** The CDB. */
  readonly cdb: Uint8Array;
  /** Buffer for data from the device. */
  readonly dataIn?: DataBuffer;
  /** Data to the device. */
  readonly dataOut?: DataBuffer;
  /** The task tag (under a caller-assigned tag policy). */
  readonly tag?: bigint;
  /** Queue position; absent = the path's default. */
  readonly queueAt?: 'head' | 'tail';
  /** Timeout in ms; absent = the device default. */
  readonly timeoutMs?: number;
  /** Sense bytes wanted back. */
  readonly maxSenseLength?: number;
  /** Task attribute (v3 requests are SIMPLE). */
  readonly attribute?: TaskAttribute;
  /** Aborts the request (an interrupted SG_IO); the promise then rejects. */
  readonly signal?: AbortSignal;
}

/**
 * Anything that runs a request and resolves with its {@link ScsiResponse} for every status:
 * structurally a device of the device API (its `submit()`), a native handle wrapper, the
 * embedded target. A rejection means the request never completed at the SCSI level (an OS
 * error of the transport, or an abort); CHECK CONDITION and the like are responses.
 */
export interface ScsiExecutor {
  /** Runs `request`; data-in buffers are filled and data-out buffers read before the promise settles. */
  submit(request: ScsiExecutorRequest): PromiseLike<ScsiResponse>;
}

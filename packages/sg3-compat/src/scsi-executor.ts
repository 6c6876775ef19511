/**
 * The one thing the compat layer needs from a device: run a canonical request.
 * @module
 */
import type { ScsiRequest, ScsiResponse } from '@sgv4/core';

/** Options of one execution. */
export interface ScsiExecuteOptions {
  /** Aborts the request (an interrupted SG_IO); the promise then rejects. */
  readonly signal?: AbortSignal;
}

/**
 * Anything that executes a {@link ScsiRequest} and resolves with its {@link ScsiResponse}: a
 * device of the device API, a native handle, the embedded target. Structural, so any object
 * with this method plugs in. A rejection means the request never completed at the SCSI level
 * (an OS error of the transport, or an abort); SCSI-level failures are responses.
 */
export interface ScsiExecutor {
  /** Runs `request`. Its data buffers are read (data-out) or written (data-in) before the promise settles. */
  execute(request: ScsiRequest, options?: ScsiExecuteOptions): Promise<ScsiResponse>;
}

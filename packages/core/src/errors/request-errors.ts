/**
 * Errors for requests that did not complete normally: timed out, canceled, refused by
 * the permission model, or asking for something the transport cannot do.
 * @module
 */

import { errnoName } from './errno-names.js';
import { ExitStatus, exitStatusForErrno } from './exit-status.js';
import { Sgv4Error, type Sgv4ErrorOptions } from './sgv4-error.js';

/**
 * The command did not complete within its timeout (the kernel aborted it, or the
 * library gave up waiting). Exit status TIMEOUT (33), as sg3_utils' `SG_LIB_CAT_TIMEOUT`.
 */
export class TimeoutError extends Sgv4Error {
  /** The timeout that expired, in milliseconds. */
  readonly timeoutMs: number;

  /** `what` names the operation, e.g. `INQUIRY on /dev/sg0`. */
  constructor(what: string, timeoutMs: number, options: Sgv4ErrorOptions = {}) {
    super(`${what}: timed out after ${timeoutMs} ms`, ExitStatus.TIMEOUT, options);
    this.timeoutMs = timeoutMs;
  }
}

/**
 * The caller canceled the request (an AbortSignal fired, or a task management function
 * aborted it on the caller's behalf). `canceled` is always true, so callers can tell a
 * cancellation from a failure without instanceof. Exit status OTHER (99): sg3_utils has
 * no category for a user cancel.
 */
export class AbortedError extends Sgv4Error {
  /** Always true: the request was canceled, it did not fail. */
  readonly canceled = true as const;
  /** The AbortSignal's reason, when there was one. */
  readonly reason?: unknown;

  /** `what` names the request, e.g. `READ(10) tag 7`. */
  constructor(what: string, reason?: unknown, options: Sgv4ErrorOptions = {}) {
    super(`${what}: canceled`, ExitStatus.OTHER, options);
    if (reason !== undefined) this.reason = reason;
  }
}

/**
 * The kernel refuses (or, predicted by the permission model, would refuse) the command:
 * EPERM from `scsi_cmd_allowed()` or a missing capability. `explanation` is the permission
 * model's sentence saying why and what would allow it. Exit status 50 + errno
 * (51 for EPERM, 63 for EACCES).
 */
export class PermissionDeniedError extends Sgv4Error {
  /** Why the command is refused and what would allow it. */
  readonly explanation: string;
  /** The errno the kernel returns for it (EPERM 1 or EACCES 13). */
  readonly errno: number;
  /** Its name, `EPERM` or `EACCES`. */
  readonly code: string;

  /** `errno` defaults to EPERM (1). */
  constructor(explanation: string, errno = 1, options: Sgv4ErrorOptions = {}) {
    const code = errnoName(errno);
    super(`${code}: ${explanation}`, exitStatusForErrno(errno), options);
    this.explanation = explanation;
    this.errno = Math.abs(errno);
    this.code = code;
  }
}

/**
 * The transport or kernel cannot do what was asked, e.g. a task tag on a transport that
 * cannot tag (mainline bsg ignores `request_tag`), a TMF over 6.1 bsg, or bidirectional
 * data after Linux 5.1. Exit status OTHER (99).
 */
export class NotSupportedError extends Sgv4Error {
  /** The missing capability, e.g. `task tags` or `bidirectional data`. */
  readonly capability: string;

  /** `detail` says where and why, e.g. `mainline bsg ignores request_tag`. */
  constructor(capability: string, detail: string, options: Sgv4ErrorOptions = {}) {
    super(`${capability} not supported: ${detail}`, ExitStatus.OTHER, options);
    this.capability = capability;
  }
}

/**
 * The base class of every error sgv4 throws for a request that failed
 * (as opposed to bad input, which is an {@link InvalidFieldError}).
 * @module
 */
import { ExitStatus, type ExitStatusCode } from './exit-status.js';

/** Options every sgv4 error accepts. */
export interface Sgv4ErrorOptions {
  /** The underlying error, when this one wraps another. */
  readonly cause?: unknown;
}

/**
 * Base of the sgv4 error family. `exitStatus` is the sg3_utils exit status a
 * command-line tool should end with for this error, so the CLI maps any sgv4
 * error to a process status without knowing its class.
 */
export class Sgv4Error extends Error {
  /** sg3_utils exit status for this error (see {@link ExitStatus}). */
  readonly exitStatus: ExitStatusCode;

  /** `exitStatus` defaults to OTHER (99). */
  constructor(
    message: string,
    exitStatus: ExitStatusCode = ExitStatus.OTHER,
    options: Sgv4ErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.exitStatus = exitStatus;
  }
}

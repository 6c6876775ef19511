/**
 * The sgv4 error family: one base class ({@link Sgv4Error}) for failed requests, one
 * subclass per kind of outcome (OS, transport, device, timeout, cancel, permission,
 * unsupported, malformed data), {@link InvalidFieldError} for bad input, and the
 * {@link ResultCategory} ordering sg3_utils uses.
 * @module
 */
export { DeviceError, exitStatusForScsiStatus, exitStatusForSense } from './device-error.js';
export { errnoDescription, errnoFromName, errnoName } from './errno-names.js';
export {
  ExitStatus,
  type ExitStatusCode,
  exitStatusForErrno,
  type OsErrorExitStatus,
} from './exit-status.js';
export { InvalidFieldError, optionalInteger, requireBigInt, requireInteger } from './invalid-field-error.js';
export { type MalformedDataDetails, MalformedDataError } from './malformed-data-error.js';
export { OsError } from './os-error.js';
export { AbortedError, NotSupportedError, PermissionDeniedError, TimeoutError } from './request-errors.js';
export { ResultCategory, resultCategoryName } from './result-category.js';
export { Sgv4Error, type Sgv4ErrorOptions } from './sgv4-error.js';
export { TransportError } from './transport-error.js';

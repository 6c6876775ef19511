/**
 * The exit status for a completed command, as sg3_utils' `sg_err_category_new()` decides it
 * (lib/sg_lib.c): GOOD with clean host and driver bytes is 0; CHECK CONDITION, COMMAND
 * TERMINATED or DRIVER_SENSE -> the sense category; host DID_NO_CONNECT, DID_BUS_BUSY or
 * DID_TIME_OUT -> TIMEOUT (33); DID_NEXUS_FAILURE -> RESERVATION CONFLICT (24); driver
 * DRIVER_TIMEOUT -> TIMEOUT; any other host or driver byte -> TRANSPORT_ERROR (35, as the
 * core's TransportError); any other status -> its status category. So GOOD with DID_TIME_OUT is
 * never 0.
 */
import {
  DriverStatus,
  ExitStatus,
  type ExitStatusCode,
  exitStatusForScsiStatus,
  exitStatusForSense,
  HostStatus,
  type ScsiResponse,
  ScsiStatus,
} from '@sgv4/core';

/** The sg3_utils exit status of a response. */
export function exitStatusForResponse(response: ScsiResponse): ExitStatusCode {
  const status = response.status & 0x7e;
  const driver = response.driverStatus & 0x0f;
  const host = response.hostStatus;
  if (status === ScsiStatus.GOOD && host === 0 && driver === 0) return ExitStatus.CLEAN;
  if (
    status === ScsiStatus.CHECK_CONDITION ||
    status === ScsiStatus.COMMAND_TERMINATED ||
    driver === DriverStatus.DRIVER_SENSE
  ) {
    return response.decodedSense ? exitStatusForSense(response.decodedSense) : ExitStatus.SENSE;
  }
  if (
    host === HostStatus.DID_NO_CONNECT ||
    host === HostStatus.DID_BUS_BUSY ||
    host === HostStatus.DID_TIME_OUT
  ) {
    return ExitStatus.TIMEOUT;
  }
  if (host === HostStatus.DID_NEXUS_FAILURE) return ExitStatus.RES_CONFLICT;
  if (driver === DriverStatus.DRIVER_TIMEOUT) return ExitStatus.TIMEOUT;
  if (host !== 0 || driver !== 0) return ExitStatus.TRANSPORT_ERROR;
  return exitStatusForScsiStatus(status);
}

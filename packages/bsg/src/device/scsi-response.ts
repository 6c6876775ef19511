/**
 * The response of a finished SCSI command, built from what a transport (or the sgv4 ring)
 * reported: status name, decoded sense and the sg_pt-style result category. One builder for the
 * device API and for code that runs commands beside it (`sgv4 dd`'s ring ends), so both decide a
 * command's outcome the same way.
 * @module
 */
import {
  type DecodedSense,
  decodeSense,
  resultCategoryOf,
  type ScsiResponse,
  scsiStatusName,
} from '@sgv4/core';
import type { TransportResult } from '../transport/transport.js';

/**
 * The response to `r`. Sense bytes that do not decode stay raw (`decodedSense` undefined): a
 * device's malformed sense must not lose the rest of the response.
 */
export function scsiResponseOf(r: TransportResult): ScsiResponse {
  let decodedSense: DecodedSense | undefined;
  if (r.sense.length > 0) {
    try {
      decodedSense = decodeSense(r.sense);
    } catch {
      decodedSense = undefined;
    }
  }
  return {
    status: r.status,
    statusName: scsiStatusName(r.status),
    hostStatus: r.hostStatus,
    driverStatus: r.driverStatus,
    sense: r.sense,
    decodedSense,
    dinResid: r.dinResid,
    doutResid: r.doutResid,
    durationMs: r.durationMs,
    info: r.info,
    generatedTag: 0n,
    usrPtr: 0n,
    category: resultCategoryOf(r.status, r.hostStatus, r.driverStatus, r.sense.length),
  };
}

/**
 * The host adapter, transport or driver reported an error (non-zero host byte, or a
 * driver byte other than DRIVER_OK / DRIVER_SENSE).
 * @module
 */

import { driverStatusName, hostStatusMeaning, hostStatusName } from '../sense/status-names.js';
import { ExitStatus } from './exit-status.js';
import { Sgv4Error, type Sgv4ErrorOptions } from './sgv4-error.js';

/**
 * Result category TRANSPORT_ERR; exit status TRANSPORT_ERROR (35), as sg3_utils'
 * `sg_cmds_process_resp()` returns for a host or driver byte error.
 *
 * Message: `transport error: DID_NO_CONNECT (couldn't connect before timeout period), driver DRIVER_OK`.
 */
export class TransportError extends Sgv4Error {
  /** The host byte (`transport_status` in sg_io_v4). */
  readonly hostStatus: number;
  /** The driver byte (`driver_status`). */
  readonly driverStatus: number;
  /** e.g. `DID_NO_CONNECT`. */
  readonly hostStatusName: string;
  /** e.g. `DRIVER_OK`. */
  readonly driverStatusName: string;

  /** From the two status values of a completed request. */
  constructor(hostStatus: number, driverStatus: number, options: Sgv4ErrorOptions = {}) {
    const hostName = hostStatusName(hostStatus);
    const driverName = driverStatusName(driverStatus);
    super(
      `transport error: ${hostName} (${hostStatusMeaning(hostStatus)}), driver ${driverName}`,
      ExitStatus.TRANSPORT_ERROR,
      options,
    );
    this.hostStatus = hostStatus;
    this.driverStatus = driverStatus;
    this.hostStatusName = hostName;
    this.driverStatusName = driverName;
  }
}

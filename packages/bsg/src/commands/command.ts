/**
 * Commands as objects (the python-scsi model without its class-level state): a command bundles
 * its CDB, built from the core's field tables, the data it sends or the room it needs for what
 * it receives, and the parser for the response. {@link Device.run} executes one; the Device's
 * helper methods are one-liners over these.
 * @module
 */
import type { DeviceResponse } from '../device/request.js';

/** One SCSI command, ready to run. Immutable: run it as often as you like. */
export interface ScsiCommand<T> {
  /** T10 name, e.g. `INQUIRY` or `READ(16)`. */
  readonly name: string;
  /** The CDB. */
  readonly cdb: Uint8Array;
  /** Data to the device. */
  readonly dataOut?: Uint8Array;
  /** Bytes to receive (a buffer of this size is allocated unless `dataIn` is given). */
  readonly dataInLength?: number;
  /** The caller's buffer for data from the device. */
  readonly dataIn?: Uint8Array;
  /** Default timeout for this command (ms), when it differs from the device's. */
  readonly timeoutMs?: number;
  /** Turns the response and the bytes received (`transferred` of them) into the result. */
  parse(data: Uint8Array, response: DeviceResponse): T;
}

/**
 * A ScsiExecutor over @sgv4/target, the embedded SCSI disk (what a Device opened on `emu:`
 * drives): the facade's unit tests run real commands on a real command set without the device
 * API package (which itself depends on this one).
 */
import {
  createSgIoV4Header,
  DriverStatus,
  responseFromSgIoV4,
  type ScsiResponse,
  SG_INFO_CHECK,
} from '@sgv4/core';
import { createTarget, type ScsiTarget } from '@sgv4/target';
import type { ScsiExecutor, ScsiExecutorRequest } from '../../src/index.js';

/** Runs requests on LUN 0 of an embedded target, one nexus. */
export class TargetExecutor implements ScsiExecutor {
  readonly target: ScsiTarget;
  #tag = 1n;
  /** Requests submitted so far (the facade's traffic, for assertions). */
  readonly submitted: ScsiExecutorRequest[] = [];

  private constructor(target: ScsiTarget) {
    this.target = target;
  }

  /** A 16 MiB memory disk with 512-byte blocks. */
  static async create(): Promise<TargetExecutor> {
    const target = await createTarget({
      name: 'sg3-compat-test',
      logicalUnits: [{ lun: 0, blockSize: 512, sizeBytes: 16 << 20, powerOnUnitAttention: false }],
    });
    return new TargetExecutor(target);
  }

  async submit(request: ScsiExecutorRequest): Promise<ScsiResponse> {
    this.submitted.push(request);
    const dataIn = request.dataIn;
    const dataOut = request.dataOut;
    if (Array.isArray(dataIn) || Array.isArray(dataOut)) throw new Error('flat buffers only');
    const r = await this.target.execute(
      { initiator: 'sg3-compat-test' },
      {
        lun: 0,
        tag: this.#tag++,
        cdb: request.cdb,
        ...(dataOut instanceof Uint8Array ? { dataOut } : {}),
        dataInLength: dataIn instanceof Uint8Array ? dataIn.length : 0,
        layout: null,
      },
    );
    if (r.outcome !== 'completed') throw new Error(`task ${r.outcome}`);
    if (dataIn instanceof Uint8Array) dataIn.set(r.dataIn.subarray(0, dataIn.length));
    const check = r.status !== 0 || r.sense.length > 0;
    return responseFromSgIoV4(
      createSgIoV4Header({
        deviceStatus: r.status,
        driverStatus: r.sense.length > 0 ? DriverStatus.DRIVER_SENSE : 0,
        responseLen: r.sense.length,
        dinResid: r.dataInResidual,
        doutResid: r.dataOutResidual,
        info: check ? SG_INFO_CHECK : 0,
      }),
      r.sense,
    );
  }
}

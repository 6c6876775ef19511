/**
 * A ScsiExecutor over @sgv4/native's ScsiHandle (its public API only), for the lab tests:
 * the canonical request goes to the real driver as sg_io_v4 (bsg) or, down-converted by the
 * addon, as sg_io_hdr (sg). bsg in 6.1 takes flat buffers only, so iovec data is gathered into
 * one buffer (and scattered back after a data-in command), as a caller of bsg must.
 */
import { type DataBuffer, requestToSgIoV4, responseFromSgIoV4, type ScsiResponse } from '@sgv4/core';
import { openScsiHandle, type ScsiHandle } from '@sgv4/native';
import type { ScsiExecutor, ScsiExecutorRequest } from '../../src/index.js';

/** One flat copy of iovec data (its current contents, for data-out and preloaded data-in). */
function gather(data: DataBuffer | undefined): Uint8Array | undefined {
  if (data === undefined || data instanceof Uint8Array) return data;
  const out = new Uint8Array(data.reduce((n, b) => n + b.length, 0));
  let at = 0;
  for (const b of data) {
    out.set(b, at);
    at += b.length;
  }
  return out;
}

/** Runs requests on an open handle. */
export class NativeExecutor implements ScsiExecutor {
  readonly handle: ScsiHandle;

  constructor(path: string) {
    this.handle = openScsiHandle(path, { readWrite: true });
  }

  async submit(request: ScsiExecutorRequest): Promise<ScsiResponse> {
    const flatIn = this.handle.kind === 'bsg' ? gather(request.dataIn) : request.dataIn;
    const flatOut = this.handle.kind === 'bsg' ? gather(request.dataOut) : request.dataOut;
    // The addon fills the pointers; the tag and attribute are not carried by 6.1 bsg/sg.
    const header = requestToSgIoV4({
      ...request,
      dataIn: flatIn,
      dataOut: flatOut,
      tag: undefined,
      attribute: undefined,
    });
    const sense = header.maxResponseLen > 0 ? new Uint8Array(header.maxResponseLen) : undefined;
    const out = await this.handle.sgIo({
      header,
      cdb: request.cdb,
      ...(sense ? { sense } : {}),
      ...(flatIn ? { dataIn: flatIn } : {}),
      ...(flatOut ? { dataOut: flatOut } : {}),
    });
    if (flatIn !== request.dataIn && Array.isArray(request.dataIn) && flatIn instanceof Uint8Array) {
      let at = 0;
      for (const segment of request.dataIn as readonly Uint8Array[]) {
        segment.set(flatIn.subarray(at, at + segment.length));
        at += segment.length;
      }
    }
    return responseFromSgIoV4(out, sense);
  }

  close(): void {
    this.handle.close();
  }
}

/**
 * Who is this device? Sends a standard INQUIRY to a SCSI pass-through node and prints the
 * vendor, product and revision, like `sg_inq`. It uses the lowest layer of sgv4: the request
 * model of `@sgv4/core` and the native addon's SG_IO (sg_io_v4 on bsg, converted to sg_io_hdr
 * on sg and block nodes). Any failure is a typed error with the sg3_utils exit status.
 *
 *     node examples/dist/inquiry.js /dev/sg0
 *     node examples/dist/inquiry.js /dev/bsg/0:0:0:0
 *
 * INQUIRY is allowed on a node opened read-only, so read permission on the node is enough.
 */
// doctest: lab /dev/sg0 => /^Linux scsi_debug \S+ \(peripheral device type 0\)$/m
// doctest: lab /dev/bsg/0:0:0:0 => /^Linux scsi_debug /
import {
  buildCdb,
  parseStandardInquiry,
  requestToSgIoV4,
  responseError,
  responseFromSgIoV4,
  Sgv4Error,
} from '@sgv4/core';
import { openScsiHandle } from '@sgv4/native';

async function inquiry(path: string): Promise<string> {
  const handle = openScsiHandle(path); // O_RDONLY
  try {
    const cdb = buildCdb('inquiry', { allocationLength: 96 });
    const data = new Uint8Array(96);
    const sense = new Uint8Array(32);
    const header = requestToSgIoV4({ cdb, dataIn: data, timeoutMs: 10_000, maxSenseLength: sense.length });
    const completed = await handle.sgIo({ header, cdb, sense, dataIn: data });
    const response = responseFromSgIoV4(completed, sense);
    const error = responseError(response); // DeviceError or TransportError unless GOOD
    if (error !== undefined) throw error;
    const fields = parseStandardInquiry(data.subarray(0, data.length - response.dinResid));
    return `${fields.vendor} ${fields.product} ${fields.revision} (peripheral device type ${fields.peripheralDeviceType})`;
  } finally {
    handle.close();
  }
}

const path = process.argv[2] ?? '/dev/sg0';
try {
  console.log(await inquiry(path));
} catch (error) {
  console.error(`inquiry: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = error instanceof Sgv4Error ? error.exitStatus : 1;
}

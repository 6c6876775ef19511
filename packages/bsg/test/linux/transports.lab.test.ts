/**
 * The conformance suite on the three Linux 6.1 kernel paths, against scsi_debug in the lab:
 * sg (write()/read() queue on an O_RDWR fd), bsg (SG_IO v4) and block SG_IO (v3).
 */
import { labDeviceNodes } from '@sgv4/lab';
import { open } from '../../src/index.js';
import { describeTransportConformance } from '../conformance/suite.js';
import { scsiDebugFaults } from '../support/scsi-debug-faults.js';

const nodes = labDeviceNodes();
const faults = scsiDebugFaults();

for (const [kind, path] of [
  ['sg', nodes.sg[0]],
  ['bsg', nodes.bsg[0]],
  ['block', nodes.block[0]],
] as const) {
  if (path === undefined) throw new Error(`the lab guest has no ${kind} node`);
  describeTransportConformance({ name: `${kind} ${path}`, open: (options) => open(path, options), faults });
}

/**
 * SCSI sense data: the decoder and encoder (fixed and descriptor formats), their field tables, the T10 ASC/ASCQ table,
 * sense keys, descriptor types, status / host / driver byte names, and one-line summaries.
 * @module
 */

export { ASC_ASCQ_COUNTS, ASC_ASCQ_RANGES } from './asc-ascq.gen.js';
export { ascAscqText, lookupAscAscq } from './asc-ascq.js';
export { decodeSense } from './decode-sense.js';
export type { DecodedSense, SenseDescriptor, SenseFormat, SenseKeySpecific } from './decoded-sense.js';
export { SenseDescriptorType, senseDescriptorTypeName } from './descriptor-types.js';
export { encodeSense, type SenseInput } from './encode-sense.js';
export { formatSenseLine } from './format-sense.js';
export { SenseKey, senseKeyName } from './sense-keys.js';
export * from './sense-tables.js';
export {
  DriverStatus,
  driverStatusName,
  HostStatus,
  hostStatusMeaning,
  hostStatusName,
  ScsiStatus,
  scsiStatusName,
} from './status-names.js';

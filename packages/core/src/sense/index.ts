/**
 * SCSI sense data: sense keys, status / host / driver byte names, and the decoded form.
 * @module
 */
export type { DecodedSense, SenseDescriptor, SenseFormat, SenseKeySpecific } from './decoded-sense.js';
export { SenseKey, senseKeyName } from './sense-keys.js';
export {
  DriverStatus,
  driverStatusName,
  HostStatus,
  hostStatusMeaning,
  hostStatusName,
  ScsiStatus,
  scsiStatusName,
} from './status-names.js';

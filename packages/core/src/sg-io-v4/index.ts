/**
 * The `struct sg_io_v4` codec, the bsg / sg constants (v4 and v3), and the request/response
 * model that converts to and from a header.
 * @module
 */
export { decodeSgIoV4, encodeSgIoV4 } from './codec.js';
export * from './constants.js';
export {
  createSgIoV4Header,
  SG_IO_V4_LAYOUT,
  SG_IO_V4_SIZE,
  type SgIoV4FieldLayout,
  type SgIoV4FieldType,
  type SgIoV4Header,
} from './header.js';
export {
  type CommandOutcome,
  type DataBuffer,
  MAX_CDB_LENGTH,
  type RequestAddresses,
  requestFieldsFromSgIoV4,
  requestToSgIoV4,
  responseError,
  responseFromSgIoV4,
  resultCategoryOf,
  SCSI_SENSE_BUFFERSIZE,
  type ScsiRequest,
  type ScsiResponse,
  scsiResponse,
} from './request.js';

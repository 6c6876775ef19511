/**
 * The `struct sg_io_v4` codec and the bsg / sg constants (v4 and v3).
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

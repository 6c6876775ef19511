/**
 * `@sgv4/native`: the Node-API addon for the Linux sg and bsg drivers (cmake-js,
 * node-addon-api, C++17). SG_IO v4 on bsg and v3 on sg/block nodes (from the canonical
 * sg_io_v4), the sg async queue, mmap-ed reserved buffers and the sg ioctls.
 * @module
 */
export type {
  NativeAddon,
  NativeData,
  NativeHandle,
  NativeHandleConstructor,
  NodeKind,
  SgRequestInfo,
  SgScsiId,
} from './binding.js';
export {
  addonPath,
  loadAddon,
  NATIVE_BUILD_COMMAND,
  NATIVE_PATH_ENV,
  NativeAddonMissingError,
} from './load-addon.js';
export { type OpenOptions, openScsiHandle, ScsiHandle, type SgIoRequest } from './scsi-handle.js';
export { SgIoctl, SgScsiReset } from './sg-ioctls.js';

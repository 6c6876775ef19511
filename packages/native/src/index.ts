/**
 * `@sgv4/native`: the Node-API addon for the Linux sg and bsg drivers (cmake-js,
 * node-addon-api, C++17). SG_IO v4 on bsg and v3 on sg/block nodes (from the canonical
 * sg_io_v4), the sg write()/read() queue with batches and prepared commands, native
 * zero-copy memory, mmap-ed reserved buffers and the sg ioctls.
 * @module
 */
export type {
  HandleCapabilities,
  HandleStats,
  NativeAddon,
  NativeCommand,
  NativeData,
  NativeHandle,
  NativeHandleConstructor,
  NativeRing,
  NativeRingConstructor,
  NativeRingSpec,
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
export { allocateBuffer } from './native-memory.js';
export { PreparedCommand } from './prepared-command.js';
export {
  CAPTURE_STACKS_ENV,
  type CloseOptions,
  type OpenOptions,
  openScsiHandle,
  ScsiHandle,
  type SgIoRequest,
} from './scsi-handle.js';
export {
  attachRing,
  openRing,
  type RingCallback,
  type RingCompletion,
  type RingData,
  type RingOptions,
  type RingRequest,
  type RingShare,
  type RingStats,
  ScsiRing,
} from './scsi-ring.js';
export { SgIoctl, SgScsiReset } from './sg-ioctls.js';

/**
 * `@sgv4/sg3-compat`: runs sgv3 (`sg_io_hdr`) code on sgv4 requests.
 * @module
 */
export * from './abi/c-abi.js';
export * from './abi/struct-codec.js';
export * from './abi/struct-layout.js';
export * from './constants.js';
export * from './facade/sg-v3-file.js';
export * from './memory/user-memory.js';
export * from './model/poll-events.js';
export * from './model/sg-fd-model.js';
export * from './scsi-executor.js';
export * from './sg-driver-error.js';
export * from './structs/sg-io-hdr.js';
export * from './structs/sg-iovec.js';
export * from './structs/sg-req-info.js';
export * from './structs/sg-scsi-id.js';
export * from './translate/index.js';

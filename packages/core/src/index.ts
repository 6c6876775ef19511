/**
 * `@sgv4/core`: the pure model of the sgv4 SCSI pass-through interface.
 *
 * No I/O happens here: every function is synchronous and deterministic, so a
 * prototype can ask what the kernel would do without a device.
 * @module
 */

export * from './cdb/index.js';
export * from './errors/index.js';

export * from './format/index.js';
export * from './limits/index.js';
export * from './permissions/index.js';
export * from './reserve/index.js';
export * from './scatterlist/index.js';
export * from './sense/index.js';
export * from './sg-io-v4/index.js';
export * from './submission/index.js';
export * from './tags/index.js';
export * from './tmf/index.js';
